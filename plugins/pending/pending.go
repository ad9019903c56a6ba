// Package pending is the stand-in behaviour of a plugin whose logic has not
// landed yet: it registers and initialises under its real name, keeps every
// chunk for retry (never reports a chunk it did not deliver as done) and
// emits nothing. Each use names the issue that replaces it.
package pending

import "github.com/whirlpool-events/whirlpool/plugins/plugin"

// Output returns a constructor for an output that retries every chunk.
func Output(what, issue string) func(plugin.Env) (plugin.Output, error) {
	return func(env plugin.Env) (plugin.Output, error) {
		env.Log.Warnf("%s is not implemented yet (%s): chunks are kept for retry", what, issue)
		return output{env: env, what: what}, nil
	}
}

type output struct {
	env  plugin.Env
	what string
}

func (o output) Flush(chunk []byte, tag string) plugin.Result {
	o.env.Log.Errorf("%s is not implemented yet: %d bytes for tag %q kept for retry", o.what, len(chunk), tag)
	return plugin.Retry
}

func (o output) Close() error { return nil }

// Input returns a constructor for an input that emits nothing.
func Input(what, issue string) func(plugin.Env) (plugin.Input, error) {
	return func(env plugin.Env) (plugin.Input, error) {
		env.Log.Warnf("%s is not implemented yet (%s): it emits nothing", what, issue)
		return input{}, nil
	}
}

type input struct{}

func (input) Collect(buf []byte) ([]byte, func()) { return buf, nil }
func (input) Pause()                              {}
func (input) Resume()                             {}
func (input) Close() error                        { return nil }
