"""OpenTelemetry for the service: one trace per job, named metrics, log records that carry the job.

- `setup`: turns telemetry on once per process, when an exporter is configured
  (APPLICATIONINSIGHTS_CONNECTION_STRING: Application Insights through azure-monitor-opentelemetry;
  TELEMETRY_FILES_DIRECTORY: OTLP JSON lines on disk, what the local stack uses). With neither, nothing
  of OpenTelemetry is imported and every helper here is a no-op, so the HTTP path's cold start does not
  pay for it.
- `w3c`: W3C trace context strings (`traceparent`), without OpenTelemetry: every job has one from its
  submit, stored on the job and carried by its queue messages, exporter or not.
- `tracing`: spans (generic); `jobs`: the job's spans and metrics by name; `instruments`: the metric
  instruments, named and described once (docs/operations.md lists them).

The package imports nothing itself: import the module you need.
"""
