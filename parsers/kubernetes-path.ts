/**
 * Kubernetes metadata read from a container log path, for the docker and cri parsers:
 * `/var/log/containers/<pod>_<namespace>_<container>-<64 hex id>.log` (kubelet symlinks) and
 * `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log`. Pure string work, no I/O.
 */
import type { RecordValue } from './types.js';

const CONTAINERS = /(?:^|\/)([a-z0-9]([-a-z0-9.]*[a-z0-9])?)_([a-z0-9]([-a-z0-9]*[a-z0-9])?)_(.+)-([0-9a-f]{64})\.log$/;
const PODS = /(?:^|\/)([a-z0-9]([-a-z0-9]*[a-z0-9])?)_([a-z0-9]([-a-z0-9.]*[a-z0-9])?)_([0-9a-f-]{36})\/([^/]+)\/(\d+)\.log(?:\.\d+)?$/;

export type KubernetesMeta = { [key: string]: RecordValue };

/** Metadata from a path, or undefined when the path is not a kubelet container log. */
export function kubernetesFromPath(file: string): KubernetesMeta | undefined {
  let m = CONTAINERS.exec(file);
  if (m) return { pod_name: m[1] as string, namespace_name: m[3] as string, container_name: m[5] as string, container_id: m[6] as string };
  m = PODS.exec(file);
  if (m) return { namespace_name: m[1] as string, pod_name: m[3] as string, pod_uid: m[5] as string, container_name: m[6] as string, restart_count: Number(m[7]) };
  return undefined;
}

/** Per-parser memo: consecutive lines come from the same file; each call returns a fresh copy. */
export class KubernetesPathCache {
  private file: string | undefined;
  private meta: KubernetesMeta | undefined;

  get(file: string): KubernetesMeta | undefined {
    if (file !== this.file) {
      this.file = file;
      this.meta = kubernetesFromPath(file);
    }
    return this.meta === undefined ? undefined : { ...this.meta };
  }
}
