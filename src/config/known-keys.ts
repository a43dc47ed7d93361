/**
 * Keys idekube itself reads from .dockerargs (besides the build args layers and manifests declare): a key in a
 * settings file that is neither is reported as unread (a typo, most often). Keep in step with their readers.
 */
import { SETTING_KEYS } from './sources.js';

/** src/qemu/settings.ts (qemuSettings, lookup) and src/qemu/image.ts. */
export const QEMU_KEYS = [
  'QEMU_BASE',
  'QEMU_BASE_IMAGE',
  'QEMU_DEBIAN_SUITE',
  'QEMU_DEBIAN_MIRROR',
  'QEMU_DEBIAN_PACKAGES',
  'QEMU_DISK_SIZE',
  'QEMU_CLOUD_IMAGE_URL_AMD64',
  'QEMU_CLOUD_IMAGE_URL_ARM64',
  'QEMU_CLOUD_IMAGE_SHA256_AMD64',
  'QEMU_CLOUD_IMAGE_SHA256_ARM64',
] as const;

/** src/config/schemes.ts (the project's tag scheme) and src/config/lineups.ts (the lineup a profile builds). */
export const SELECTION_KEYS = ['IDEKUBE_SCHEME', 'IDEKUBE_LINEUP'] as const;

/** src/config/extra-ca.ts (extra CA certificates for RUN steps). */
export const BUILD_KEYS = ['IDEKUBE_EXTRA_CA_CERTS'] as const;

/**
 * Naming settings (REGISTRY, AUTHOR, NAME, GIT_TAG, TAG_POSTFIX: sources.ts), the QEMU settings, the scheme and
 * lineup keys, and BASE_IMAGE (the upstream files' base image key, which profiles override even where no manifest
 * uses `${BASE_IMAGE}`).
 */
export const IDEKUBE_KEYS: readonly string[] = [...SETTING_KEYS, ...QEMU_KEYS, ...SELECTION_KEYS, ...BUILD_KEYS, 'BASE_IMAGE'];
