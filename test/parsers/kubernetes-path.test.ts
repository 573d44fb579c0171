import { describe, expect, it } from 'vitest';
import { kubernetesFromPath } from '../../parsers/kubernetes-path.js';

describe('kubernetes metadata from paths', () => {
  it('reads /var/log/pods paths too, and ignores other paths', () => {
    expect(kubernetesFromPath('/var/log/pods/shop_checkout-5c8d7b9f4-lq2vx_0f8e2f4a-9a1b-4c2d-8e3f-1a2b3c4d5e6f/checkout/3.log')).toEqual({
      namespace_name: 'shop',
      pod_name: 'checkout-5c8d7b9f4-lq2vx',
      pod_uid: '0f8e2f4a-9a1b-4c2d-8e3f-1a2b3c4d5e6f',
      container_name: 'checkout',
      restart_count: 3,
    });
    expect(kubernetesFromPath('/var/log/app.log')).toBeUndefined();
  });
});
