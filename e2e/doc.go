// Package e2e holds Gatehouse's end-to-end tests: a whole server driven by
// unchanged AWS clients — Debian's AWS CLI 2.9.19 at /usr/bin/aws and the
// AWS SDK for Go v2 — over loopback, each CLI run with its own HOME and
// HTTPS_PROXY pointed at a closed port so nothing can reach real AWS.
package e2e
