import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactConfig } from './config.js';

describe('OTLP export variables (OpenTelemetry names)', () => {
  it('appends the signal path to the base endpoint; per-signal variables override', () => {
    const c = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-honeycomb-team=abc%3D1,x-tenant=t',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://metrics.example/otlp/v1/metrics',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-tenant=logs',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod',
    });
    expect(c.otlp.traces).toEqual({
      url: 'http://collector:4318/v1/traces',
      headers: { 'x-honeycomb-team': 'abc=1', 'x-tenant': 't' },
      protocol: 'http/protobuf',
      timeoutMs: 10_000,
      compression: 'gzip',
    });
    expect(c.otlp.metrics).toMatchObject({
      url: 'https://metrics.example/otlp/v1/metrics',
      protocol: 'http/json',
    });
    expect(c.otlp.logs?.headers).toEqual({ 'x-honeycomb-team': 'abc=1', 'x-tenant': 'logs' });
    expect(c.otlp.resourceAttributes).toEqual({ 'deployment.environment': 'prod' });
    expect(JSON.stringify(redactConfig(c as never))).not.toContain('abc');
  });

  it('is off without an endpoint, per signal with OTEL_<SIGNAL>_EXPORTER=none, and refuses grpc', () => {
    expect(loadConfig({}).otlp.traces).toBeUndefined();
    const c = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_LOGS_EXPORTER: 'none' });
    expect(c.otlp.logs).toBeUndefined();
    expect(c.otlp.traces?.url).toBe('http://c:4318/v1/traces');
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(ConfigError);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'bad header=1' })).toThrow(/key=value/);
  });
});
