package docker

import (
	"context"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/helios-go/helios/agent"
	"github.com/moby/moby/client"
)

// HasImage implements agent.Runtime.
func (d *Docker) HasImage(ctx context.Context, image string) (bool, error) {
	_, err := d.cli.ImageInspect(ctx, image)
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("inspect image %s: %w", image, err)
	}
	return true, nil
}

// Pull implements agent.Runtime: it pulls with the credentials the Docker config file holds
// for the image's registry, and reads the progress stream to its end, where pull errors are.
func (d *Docker) Pull(ctx context.Context, image string) error {
	auth, err := registryAuth(d.dockerConfig, image)
	if err != nil {
		return fmt.Errorf("pull %s: %w", image, err)
	}
	res, err := d.cli.ImagePull(ctx, image, client.ImagePullOptions{RegistryAuth: auth})
	if err == nil {
		err = res.Wait(ctx)
	}
	if err != nil {
		if imageNotFound(err) {
			return fmt.Errorf("pull %s: %w: %w", image, agent.ErrImageNotFound, err)
		}
		return fmt.Errorf("pull %s: %w", image, err)
	}
	return nil
}

// imageNotFound tells a registry's "no such image" from other pull failures. Engines answer
// 404 for it, but older ones only say so in the message ("manifest unknown", "not found").
func imageNotFound(err error) bool {
	if cerrdefs.IsNotFound(err) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "manifest unknown") || strings.Contains(msg, "not found") ||
		strings.Contains(msg, "repository does not exist")
}

// RemoveImage removes an image (tests clean up what they pulled).
func (d *Docker) RemoveImage(ctx context.Context, image string) error {
	_, err := d.cli.ImageRemove(ctx, image, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	return err
}
