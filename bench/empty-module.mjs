// A module with nothing in it: bench/cold-start.ts times importing it, the floor of a cold start in Node.
export {};
