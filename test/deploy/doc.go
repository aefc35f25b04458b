// Package deploy tests the files under deploy/ that operators install as they are: the
// Prometheus rules (promtool), the Grafana dashboard, the systemd units and the container
// image. It holds tests only.
package deploy
