// Package testimage builds the image end-to-end tests run, locally (nothing can be pulled):
// the static program in ./prog, alone in an image FROM scratch.
package testimage
