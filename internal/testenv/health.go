package testenv

import (
	"fmt"
	"net/http"
	"time"
)

// Healthy reports nil when every URL answers 200 (a tier's /healthz, a
// server's page): what tests poll while a process they started comes up.
func Healthy(urls ...string) error {
	c := &http.Client{Timeout: 2 * time.Second}
	for _, u := range urls {
		resp, err := c.Get(u)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", u, resp.Status)
		}
	}
	return nil
}
