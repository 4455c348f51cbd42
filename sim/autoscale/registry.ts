import { Registry } from '../engine/registry.js';
import type { AutoscalerFactory } from './autoscaler.js';
import { HPA } from './hpa.js';

/** One line per built-in autoscaler: adding one is a file plus an entry here. */
const registry = new Registry<AutoscalerFactory>('autoscaler', [HPA]);

export const AUTOSCALERS = registry.table;
