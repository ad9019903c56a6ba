package flbhost

import "testing"

// The offsets Fluent Bit 5.1 uses on 64-bit Linux (flb_plugin_proxy.h,
// flb_api.h, proxy/go/go.h). A plugin built against other offsets reads the
// wrong fields in a real Fluent Bit even if it works with a host that shares
// its mistake.
func TestLayoutMatchesFluentBit(t *testing.T) {
	want := map[string]uintptr{
		"def.name":                      16, // after int type, proxy, flags (+pad)
		"def.event_type":                32,
		"sizeof(def)":                   48,
		"input_context.remote_context":  8, // after int coll_fd (+pad)
		"output_context.remote_context": 0,
		"api.log_print":                 32, // fifth function pointer
		"api.output_log_check":          48,
		"flbgo_output_plugin.context":   24, // name, api, o_ins, context
	}
	got := layout()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: offset %d, Fluent Bit uses %d", k, got[k], w)
		}
	}
}
