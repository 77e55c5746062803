// Keeps one core busy until killed (bench/busy-machine.ts: another program running beside the engines).
for (let x = 0; ; x++) if (x === 2 ** 30) x = 0;
