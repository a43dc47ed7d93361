/** What a driver reports while it executes a plan; renderers (TTY, plain, JSON) turn these into output. */
import type { Platform } from '../config/model.js';

export type TargetStatus = 'built' | 'cached' | 'failed' | 'skipped' | 'cancelled';

export type BuildEvent =
  | { type: 'plan'; targets: number; images: number; driver: string }
  | { type: 'target-start'; target: string }
  | { type: 'step'; target: string; name: string; cached: boolean; completed: boolean }
  | { type: 'log'; target: string; line: string }
  | {
      type: 'target-end';
      target: string;
      status: TargetStatus;
      durationMs: number;
      imageId?: string;
      executed?: number;
      cachedSteps?: number;
      ran?: string[];
      error?: string;
      log?: string[];
      reason?: string;
    }
  | { type: 'push'; ref: string; status: 'start' | 'done' | 'failed'; digest?: string; error?: string }
  | { type: 'list'; ref: string; status: 'done' | 'skipped' | 'failed'; digest?: string; platforms?: Platform[]; reason?: string }
  | { type: 'note'; message: string };

export type Emit = (e: BuildEvent) => void;

export interface TargetResult {
  id: string;
  flavor: string;
  platform: Platform;
  tag: string;
  status: TargetStatus;
  durationMs: number;
  imageId?: string;
  digest?: string;
  executed?: number;
  cachedSteps?: number;
  /** Dockerfile steps that ran (not cached). */
  ran?: string[];
  error?: string;
  /** The last lines of build output, for a failed target. */
  log?: string[];
}

export interface ImageResult {
  flavor: string;
  ref: string;
  status: 'published' | 'built' | 'failed' | 'skipped';
  digest?: string;
  platforms: Platform[];
  aliases: string[];
  reason?: string;
}

export interface RunResult {
  targets: TargetResult[];
  images: ImageResult[];
  cancelled: boolean;
  durationMs: number;
}
