// Loads the PyTorch fixtures (test/fixtures/torch, format in its FORMAT.md) as typed arrays.
import { readFileSync } from 'node:fs';

const DIR = new URL('./fixtures/torch/', import.meta.url);

export interface FixtureArray {
  data: Float32Array | Uint8Array;
  shape: number[];
}

export interface Fixture {
  name: string;
  group: string;
  params: Record<string, unknown>;
  inputs: Record<string, FixtureArray>;
  expected: Record<string, FixtureArray>;
}

interface IndexEntry {
  file: string;
  name: string;
  group: string;
}

export function fixtureIndex(): IndexEntry[] {
  return (JSON.parse(readFileSync(new URL('index.json', DIR), 'utf8')) as { cases: IndexEntry[] }).cases;
}

function toArray(values: unknown[], dtype: string, shape: number[]): FixtureArray {
  // float32 values are shortest round-trip decimals; non-finite ones are the strings Number() accepts.
  const data =
    dtype === 'bool'
      ? Uint8Array.from(values as boolean[], (b) => (b ? 1 : 0))
      : Float32Array.from(values, (v) => Number(v));
  return { data, shape };
}

export function loadFixture(file: string): Fixture {
  const raw = JSON.parse(readFileSync(new URL(file, DIR), 'utf8'));
  const convert = (arrays: Record<string, unknown[]>) =>
    Object.fromEntries(Object.entries(arrays).map(([k, v]) => [k, toArray(v, raw.dtypes[k], raw.shapes[k])]));
  return {
    name: raw.name,
    group: raw.group,
    params: raw.params,
    inputs: convert(raw.inputs),
    expected: convert(raw.expected),
  };
}
