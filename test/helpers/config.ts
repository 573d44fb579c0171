/** The nginx → RudderStack config most integration tests use, with a few knobs. */
export interface TestConfigOptions {
  stateDir: string;
  logGlob: string;
  url: string;
  writeKey?: string;
  batchSize?: number;
  flushInterval?: string;
  startAt?: 'beginning' | 'end';
  parser?: 'nginx' | 'json';
  retryBase?: string;
  retryCap?: string;
  concurrency?: number;
  pollInterval?: string;
  extraPipelineYaml?: string;
  extraOutputYaml?: string;
}

export function testConfig(o: TestConfigOptions): string {
  const rules =
    o.parser === 'json'
      ? `
      - type: track
        event: "Line"
        anonymousId: "{{ user }}"
        properties: { n: "{{ n }}" }`
      : `
      - when: "status >= 500"
        type: track
        event: "Server Error"
        anonymousId: "{{ remote_addr }}"
        properties: { path: "{{ request_path }}", status: "{{ status }}" }
      - type: track
        event: "Page Requested"
        userId: "{{ query.uid }}"
        anonymousId: "{{ remote_addr }}"
        properties: { path: "{{ request_path }}", status: "{{ status }}", bytes: "{{ body_bytes_sent }}" }
        context: { ip: "{{ remote_addr }}", userAgent: "{{ http_user_agent }}" }
        timestamp: "{{ time_local }}"`;
  return `
state_dir: ${JSON.stringify(o.stateDir)}
log_level: ${process.env.TAILSHIP_TEST_LOG ?? 'silent'}
shutdown_timeout: 2s
pipelines:
  - name: web
    inputs:
      - paths: [${JSON.stringify(o.logGlob)}]
        start_at: ${o.startAt ?? 'beginning'}
        poll_interval: ${o.pollInterval ?? '50ms'}
        rescan_interval: 1s
    parser:
      type: ${o.parser ?? 'nginx'}
      ${o.parser === 'json' ? '' : 'format: combined'}
    events:${rules}
${o.extraPipelineYaml ?? ''}
    output:
      type: rudderstack
      url: ${o.url}
      write_key: ${o.writeKey ?? 'test-write-key'}
      batch_size: ${o.batchSize ?? 100}
      flush_interval: ${o.flushInterval ?? '100ms'}
      concurrency: ${o.concurrency ?? 2}
      retry: { base: ${o.retryBase ?? '20ms'}, cap: ${o.retryCap ?? '200ms'} }
${o.extraOutputYaml ?? ''}
`;
}

/** A realistic nginx combined line whose path carries the line number n. */
export function nginxLine(n: number, status = 200): string {
  const sec = String(n % 60).padStart(2, '0');
  return `203.0.113.${n % 250} - - [12/Mar/2025:14:05:${sec} +0000] "GET /items/${n}?uid=u-${n % 97} HTTP/1.1" ${status} ${n % 9000} "https://shop.example.com/" "Mozilla/5.0 (X11; Linux x86_64) Chrome/122.0"`;
}
