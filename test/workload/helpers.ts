import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RequestStream } from '../../sim/workload/request.js';
import type { TraceRequest } from '../../sim/workload/types.js';

/** Writes `content` to a fresh temp folder under `name` (the name shows up in row errors). */
export function tempFile(name: string, content: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'infersim-workload-')), name);
  writeFileSync(file, content);
  return file;
}

/** Every request an open-loop stream yields. */
export function drain(stream: RequestStream): TraceRequest[] {
  const out: TraceRequest[] = [];
  for (let r = stream.next(); r !== undefined; r = stream.next()) out.push(r);
  return out;
}

export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

export function cv(values: ArrayLike<number>): number {
  const m = mean(values);
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - m) ** 2;
  return Math.sqrt(squares / (values.length - 1)) / m;
}

/** The message of the error `fn` throws (fails the test if it throws nothing). */
export function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, none was thrown');
}

/** The shared real traces beside the checkout (`../shared/data/traces` from the repo root). */
export const TRACES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data/traces');

export interface DrivenRequest {
  request: TraceRequest;
  /** Simulated time when the driver pulled it. */
  pulled_s: number;
  finish_s: number;
}

/**
 * Runs `stream` the way the engine does (RequestStream's pull contract): one pull at the start, one
 * after each arrival, one per request onFinished reports released; every request is served by its own
 * server for `service_s(request)`. Fails if a pulled request would arrive in the past, if a promised
 * release yields nothing, or if the stream is not exhausted at the end. Returns requests in pull order.
 */
export function driveStream(stream: RequestStream, service_s: (request: TraceRequest) => number): DrivenRequest[] {
  const out: DrivenRequest[] = [];
  const events: { time_s: number; seq: number; finish: boolean; index: number }[] = [];
  let seq = 0;
  let now_s = 0;
  const push = (time_s: number, finish: boolean, index: number): void => {
    events.push({ time_s, seq: seq++, finish, index });
  };
  const pull = (mustYield: boolean): void => {
    const request = stream.next() as TraceRequest | undefined;
    if (request === undefined) {
      if (mustYield) throw new Error(`a release promised at ${now_s} s yielded nothing`);
      return;
    }
    if (request.arrival_s < now_s) throw new Error(`request ${request.id} pulled at ${now_s} s arrives in the past (${request.arrival_s} s)`);
    out.push({ request, pulled_s: now_s, finish_s: NaN });
    push(request.arrival_s, false, out.length - 1);
  };
  pull(false);
  while (events.length > 0) {
    let best = 0;
    for (let i = 1; i < events.length; i++) {
      const e = events[i];
      const b = events[best];
      if (e.time_s < b.time_s || (e.time_s === b.time_s && e.seq < b.seq)) best = i;
    }
    const event = events.splice(best, 1)[0];
    now_s = event.time_s;
    const entry = out[event.index];
    if (event.finish) {
      const released = stream.onFinished(entry.request.id, now_s);
      for (let k = 0; k < released; k++) pull(true);
    } else {
      pull(false);
      entry.finish_s = now_s + service_s(entry.request);
      push(entry.finish_s, true, event.index);
    }
  }
  if (!stream.exhausted()) throw new Error('the driver ran out of events but the stream is not exhausted');
  if (stream.next() !== undefined) throw new Error('an exhausted stream yielded a request');
  return out;
}
