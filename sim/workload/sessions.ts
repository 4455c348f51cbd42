import { EventQueue } from '../engine/eventQueue.js';
import type { RequestStream } from './request.js';
import { markTraits, type Traits } from './traits.js';
import type { TraceRequest } from './types.js';

export interface SessionOptions {
  /** Infinity when only time bounds the stream. Counts requests (turns), not sessions. */
  max_requests: number;
  /** No session starts at or after this time; turns of started sessions go on. */
  duration_s: number;
  think_time_s: number;
  /** Open loop: successive session start times. Undefined for a closed loop. */
  nextStart: (() => number) | undefined;
  /** Closed loop: clients, each starting its next session when its last one's last turn leaves. */
  concurrency: number | undefined;
  /** A session's number of turns, ≥ 1. */
  turns: () => number;
  /** Builds request `id` with fresh input and output draws: a turn's own new text and its answer. */
  make: (id: number, arrival_s: number) => TraceRequest;
  traits: (() => Traits) | undefined;
  limit: ((request: TraceRequest) => void) | undefined;
}

interface Session {
  index: number;
  turns: number;
  sent: number;
  traits: Traits | undefined;
  /** Tokens the next turn's prompt starts with: the system prompt, then every earlier prompt and answer. */
  context_tokens: number;
}

const NEW_SESSION = 0;
const NEXT_TURN = 1;

/**
 * Multi-turn sessions. A session's first turn comes from the arrival process (or a free closed-loop
 * client); each later turn is released `think_time_s` after the previous one leaves, so the stream learns
 * it only through onFinished. Released requests wait in a time-ordered queue and next() returns the
 * earliest of those and the open-loop look-ahead, which is why a turn may arrive before a session start
 * returned earlier. Every released request takes one of the `max_requests` slots at once, so a
 * release promised through onFinished's return value is always delivered.
 *
 * Session-level draws (turns, traits) and length draws happen when a request is returned, in id order,
 * so results do not depend on when the engine happens to pull.
 */
export function sessionStream(options: SessionOptions): RequestStream & { next(): TraceRequest | undefined } {
  const { max_requests, duration_s, think_time_s, nextStart, make, traits, limit } = options;
  const closed = nextStart === undefined;
  const released = new EventQueue(64);
  const waiting = new Map<number, Session>(); // sessions with a released next turn, by session index
  const inFlight = new Map<number, Session>(); // returned requests that have not left, by request id
  let inFlightWithNextTurn = 0;
  let id = 0;
  let sessions = 0;
  let last_finish_s = 0;
  let upcoming_s = closed ? Infinity : nextStart();

  if (closed) for (let i = 0; i < Math.min(options.concurrency!, max_requests); i++) released.push(0, 0, NEW_SESSION, 0);

  const committed = (): number => id + released.size;
  const startDue = (): boolean => upcoming_s < duration_s && committed() < max_requests;

  const send = (session: Session, arrival_s: number): TraceRequest => {
    const request = make(id, arrival_s);
    request.input_tokens += session.context_tokens;
    request.session = session.index;
    if (session.traits !== undefined) markTraits(request, session.traits);
    limit?.(request);
    session.context_tokens = request.input_tokens + request.output_tokens;
    session.sent++;
    if (session.sent < session.turns) inFlightWithNextTurn++;
    inFlight.set(id++, session);
    return request;
  };

  const start = (arrival_s: number): TraceRequest => {
    const drawn = traits?.();
    const session: Session = { index: sessions++, turns: options.turns(), sent: 0, traits: drawn, context_tokens: drawn?.prefix_tokens ?? 0 };
    return send(session, arrival_s);
  };

  return {
    next() {
      const turn_s = released.peekTime();
      const start_s = startDue() ? upcoming_s : Infinity;
      if (turn_s === Infinity && start_s === Infinity) return undefined;
      if (start_s < turn_s) {
        upcoming_s = nextStart!();
        return start(start_s);
      }
      released.pop();
      if (released.poppedKind === NEW_SESSION) return start(turn_s);
      const session = waiting.get(released.poppedTarget)!;
      waiting.delete(session.index);
      return send(session, turn_s);
    },
    exhausted() {
      if (released.size > 0 || startDue()) return false;
      if (id >= max_requests) return true;
      if (inFlightWithNextTurn > 0) return false;
      // A closed-loop client whose last turn is still out may yet start a session before duration_s.
      return !(closed && inFlight.size > 0 && last_finish_s < duration_s);
    },
    onFinished(finishedId, time_s) {
      const session = inFlight.get(finishedId);
      if (session === undefined) throw new Error(`session workload: request ${finishedId} finished but is not in flight`);
      if (!(time_s >= last_finish_s)) throw new Error(`session workload: completion at ${time_s} s is before an earlier one at ${last_finish_s} s`);
      inFlight.delete(finishedId);
      last_finish_s = time_s;
      const hasNextTurn = session.sent < session.turns;
      if (hasNextTurn) inFlightWithNextTurn--;
      if (committed() >= max_requests) return 0;
      if (hasNextTurn) {
        waiting.set(session.index, session);
        released.push(time_s + think_time_s, 0, NEXT_TURN, session.index);
        return 1;
      }
      if (closed && time_s < duration_s) {
        released.push(time_s, 0, NEW_SESSION, 0);
        return 1;
      }
      return 0;
    },
  };
}
