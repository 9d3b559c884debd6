/**
 * The `features` document (OCI runtime-spec features.md, what `runc features` prints).
 *
 * Like runc's, it is generated from the tables the code itself uses — capability names from
 * capabilities.ts, mount options from mountopts.ts, namespaces and hooks from validate.ts, seccomp
 * names from src/seccomp/ — so it cannot claim support the validator or compiler would refuse.
 */
import { CAPABILITY_NAMES } from './capabilities.js';
import { EXTENSION_OPTIONS, knownMountOptions } from './mountopts.js';
import { OCI_VERSION } from './spec.js';
import { HOOK_NAMES, NAMESPACE_TYPES } from './validate.js';
import { ACTIONS, FLAGS, OPERATORS, encodeFlags } from '../seccomp/actions.js';
import { ARCHITECTURES } from '../seccomp/arch.js';

/** The features document; field names as in the spec's features.md. */
export interface Features {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: {
    namespaces: string[];
    capabilities: string[];
    cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean; rdma: boolean };
    seccomp: {
      enabled: boolean;
      actions: string[];
      operators: string[];
      archs: string[];
      knownFlags: string[];
      supportedFlags: string[];
    };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
    intelRdt: { enabled: boolean };
    mountExtensions: { idmap: { enabled: boolean } };
  };
}

/** Flags the seccomp compiler accepts: those `encodeFlags` does not refuse. */
function supportedSeccompFlags(): string[] {
  return FLAGS.filter((f) => {
    try {
      encodeFlags([f]);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Berth's features document.
 *
 * @example console.log(JSON.stringify(features(), null, 4))  // `berth-runtime features`
 */
export function features(): Features {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: [...HOOK_NAMES],
    mountOptions: knownMountOptions(),
    linux: {
      namespaces: [...NAMESPACE_TYPES].sort(),
      capabilities: [...CAPABILITY_NAMES],
      cgroup: {
        v1: true,
        v2: true,
        // Berth writes cgroupfs directly; it has no systemd driver.
        systemd: false,
        systemdUser: false,
        // No rdma controller module in cgroups/ (linux.resources.rdma is validated, not applied).
        rdma: false,
      },
      seccomp: {
        enabled: true,
        actions: [...ACTIONS].sort(),
        operators: [...OPERATORS].sort(),
        archs: [...ARCHITECTURES].sort(),
        knownFlags: [...FLAGS],
        supportedFlags: supportedSeccompFlags(),
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: EXTENSION_OPTIONS.idmap?.supported ?? false } },
    },
  };
}
