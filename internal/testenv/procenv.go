package testenv

import (
	"os"
	"syscall"
)

// ProcessEnv makes sure the test process started with vars in its
// environment, re-executing the test binary with them when it did not. Call
// it first thing in TestMain of tests that load plugins into the test host:
// a Go runtime inside a c-shared object reads the environment the process
// was started with, not what os.Setenv changed later (the same holds in
// Fluent Bit, where ${ENV} and AWS_* come from the process environment).
func ProcessEnv(vars map[string]string) {
	missing := false
	for k, v := range vars {
		if os.Getenv(k) != v {
			missing = true
		}
	}
	if !missing {
		return
	}
	env := os.Environ()
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	exe, err := os.Executable()
	if err != nil {
		panic("testenv.ProcessEnv: " + err.Error())
	}
	if err := syscall.Exec(exe, os.Args, env); err != nil {
		panic("testenv.ProcessEnv: re-exec: " + err.Error())
	}
}

// AWSTestEnv is the environment plugins need to talk to the local emulators:
// fake static credentials, no instance-metadata lookups and none of this
// machine's shared AWS files.
var AWSTestEnv = map[string]string{
	"AWS_ACCESS_KEY_ID":           "test",
	"AWS_SECRET_ACCESS_KEY":       "test",
	"AWS_REGION":                  "us-east-1",
	"AWS_EC2_METADATA_DISABLED":   "true",
	"AWS_CONFIG_FILE":             os.DevNull,
	"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
}
