import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';

/** `xlss_controller_http_*`: one counter and one duration histogram per route and status. */
export function registerHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'xlss_controller_http_requests_total',
    help: 'HTTP requests served by the controller API',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'xlss_controller_http_request_duration_seconds',
    help: 'Time to answer an HTTP request of the controller API',
    labelNames,
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10],
    registers: [registry],
  });
  app.addHook('onResponse', async (req, reply) => {
    // The route pattern, never the raw URL: names in URLs would make labels unbounded.
    const labels = {
      method: req.method,
      route: req.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });
}
