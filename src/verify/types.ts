/**
 * What `idekube test` works with: the subject (an image and the services it declares), the checks derived from
 * it, and the results. Plain data; no engine here.
 */
import type { LayerCommand, Route, ServiceCheck } from '../config/model.js';

/** A service as the tests see it: from the catalog (`servicesOf`) or from the image's /etc/idekube/flavor.json. */
export interface VerifyService {
  name: string;
  check: ServiceCheck;
  routes: Route[];
  programs: string[];
  /** The flavor's main service (its /health turns 502 when it is down): set on exactly one service, when one has a route. */
  main?: boolean;
}

/** One image to test, and what is known about it before it runs. */
export interface Subject {
  /** `web/base`, or the image's io.idekube.flavor label with --image (null when it has none). */
  flavor: string | null;
  image: string;
  /** Tried when `image` (the per-arch tag) is missing: the multi-arch tag, for the platform (bake publishes and loads only that). */
  alternate?: string;
  platform: string;
  services: VerifyService[];
  /** Commands the image's layers declare, run in its web terminal (`command <name>` checks). */
  commands?: LayerCommand[];
  /** Where the services came from (for messages). */
  source: 'catalog' | 'image';
}

/** Facts read from the image itself (inspect + a short probe container). */
export interface ImageFacts {
  id: string;
  architecture: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  entrypoint: string[];
  /** The parsed /etc/idekube/flavor.json, when the image has one. */
  metadata?: {
    flavor?: string;
    lineage?: string[];
    main?: string;
    services?: Array<{ name: string; check?: string; main?: boolean; routes?: Route[]; programs?: string[] }>;
    commands?: LayerCommand[];
  };
  /** /etc/shells entries that exist in the image. */
  shells: string[];
  /** The desktop/IDE user (USERNAME, default idekube) as in the image's passwd, when it exists. */
  user?: { name: string; uid: number; gid: number; home: string; shell: string };
  /** Regular files under /etc/skel, relative paths (empty when /etc/skel is missing or empty). */
  skel: string[];
  skelExists: boolean;
  hasRuntime: boolean;
  hasDetectGpu: boolean;
}

export type CheckStatus = 'pass' | 'fail' | 'skipped';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  message: string;
  durationMs: number;
}

export interface ImageReport {
  /** Names and labels of everything the test created: `idekube-test-<session>-…`, label io.idekube.test.session. */
  session: string;
  flavor: string | null;
  image: string;
  platform: string;
  passed: boolean;
  checks: CheckResult[];
  /** Containers and volumes left behind with --keep. */
  kept: string[];
  screenshot?: string;
  durationMs: number;
}

export interface TestReport {
  passed: boolean;
  images: ImageReport[];
  durationMs: number;
}

/** A check fails: the message says what is wrong. */
export class CheckFailed extends Error {}

/** A check cannot apply here: the message says why (never a silent pass). */
export class CheckSkipped extends Error {}

export function fail(message: string): never {
  throw new CheckFailed(message);
}

export function skip(message: string): never {
  throw new CheckSkipped(message);
}
