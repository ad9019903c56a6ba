package flbhost

/*
#include "host.h"
*/
import "C"

// layout reports struct offsets of the ABI header, for tests that pin them
// against Fluent Bit's own definitions.
func layout() map[string]uintptr {
	return map[string]uintptr{
		"def.name":                      uintptr(C.host_offset_def_name()),
		"def.event_type":                uintptr(C.host_offset_def_event_type()),
		"sizeof(def)":                   uintptr(C.host_size_def()),
		"input_context.remote_context":  uintptr(C.host_offset_input_remote_context()),
		"output_context.remote_context": uintptr(C.host_offset_output_remote_context()),
		"api.log_print":                 uintptr(C.host_offset_api_log_print()),
		"api.output_log_check":          uintptr(C.host_offset_api_output_log_check()),
		"flbgo_output_plugin.context":   uintptr(C.host_offset_plugin_context()),
	}
}
