// Package testimage builds, locally (nothing can be pulled), the images tests and demos
// run: the static program in ./prog alone in an image FROM scratch (helios-test:latest), and
// busybox:latest from the static binary of Debian's busybox-static package.
package testimage
