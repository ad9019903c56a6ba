package plugin

import "strings"

// Core property keys that Fluent Bit 5.1 consumes while it reads an
// instance's configuration (flb_input_set_property, flb_output_set_property):
// a plugin asking for one of them gets nothing, whatever the config says. No
// Whirlpool property may use one, and the test host hides them as the engine
// does. Keys are case-insensitive.
var (
	coreInputKeys = []string{
		"alias", "host", "ipv6", "listen", "log_level", "log_suppress_interval",
		"mem_buf_limit", "port", "rate_gate", "rate_gate.backpressure",
		"rate_gate.max_bytes", "rate_gate.max_records", "rate_gate.resume_ratio",
		"rate_window", "routable", "storage.pause_on_chunks_overlimit",
		"storage.type", "tag", "threaded", "thread.ring_buffer.capacity",
		"thread.ring_buffer.window", "tls", "tls.ca_file", "tls.ca_path",
		"tls.ciphers", "tls.crt_file", "tls.debug", "tls.key_file",
		"tls.key_passwd", "tls.max_version", "tls.min_version", "tls.verify",
		"tls.verify_client_cert", "tls.verify_hostname", "tls.vhost",
	}
	coreOutputKeys = []string{
		"alias", "host", "ipv6", "log_level", "log_suppress_interval", "match",
		"match_regex", "port", "retry_limit", "storage.total_limit_size", "tls",
		"tls.ca_file", "tls.ca_path", "tls.ciphers", "tls.crt_file", "tls.debug",
		"tls.key_file", "tls.key_passwd", "tls.max_version", "tls.min_version",
		"tls.proxy.ca_file", "tls.proxy.ca_path", "tls.proxy.verify",
		"tls.proxy.verify_hostname", "tls.verify", "tls.verify_hostname",
		"tls.vhost", "tls.windows.certstore_name", "tls.windows.client_thumbprints",
		"tls.windows.use_enterprise_store", "workers",
	}
	// Prefixes the engine routes to its own property lists.
	coreInputPrefixes  = []string{"net.", "oauth2"}
	coreOutputPrefixes = []string{"net.", "oauth2", "_debug.http."}
)

// IsCoreKey reports whether Fluent Bit consumes key before an input (input
// true) or output instance can read it.
func IsCoreKey(input bool, key string) bool {
	keys, prefixes := coreOutputKeys, coreOutputPrefixes
	if input {
		keys, prefixes = coreInputKeys, coreInputPrefixes
	}
	for _, k := range keys {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	for _, p := range prefixes {
		if len(key) >= len(p) && strings.EqualFold(key[:len(p)], p) {
			return true
		}
	}
	return false
}
