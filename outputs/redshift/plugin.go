package redshift

import (
	"fmt"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/gomem"
	"github.com/whirlpool-events/whirlpool/internal/metrics"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/props"
)

// PluginProperties are every property of the Fluent Bit plugin: the
// loader's Properties, then validation of records not validated upstream
// (with the data model) and metrics.
var PluginProperties = props.Join(Properties, props.Set{
	{Name: "validate", Type: props.Bool, Default: "on", Meaning: "Validate records that were not validated upstream (the model_* properties below), and take auto_create's column types from the data model; off: such records become INTERNAL_ERROR failure rows."},
}, validate.Properties, metrics.Properties, gomem.Properties)

// pluginConfig is what PluginProperties say.
type pluginConfig struct {
	loader    *config
	validate  bool
	validator validate.Config // used when validate is on
	maxEvent  int
	metrics   metrics.Settings
	goMemory  gomem.Settings
}

// readPluginConfig reads every property with one reader, so that the
// error lists every bad property of every set at once.
func readPluginConfig(cfg plugin.Config) (*pluginConfig, error) {
	r := PluginProperties.Read(cfg)
	c := &pluginConfig{
		loader:   readConfig(r),
		validate: r.Bool("validate"),
		maxEvent: validate.ReadMaxEventSize(r),
		metrics:  metrics.Read(r),
		goMemory: gomem.Read(r),
	}
	if c.validate {
		c.validator = validate.ReadConfig(r)
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// pluginOutput is the Output with what the plugin owns besides it.
type pluginOutput struct {
	*Output
	validator *validate.Validator
	metrics   *metrics.Instance
}

// newPlugin builds the output as Fluent Bit runs it: with the validator and
// the model's column types when validate is on, and its metrics.
func newPlugin(env plugin.Env) (plugin.Output, error) {
	c, err := readPluginConfig(env.Config)
	if err != nil {
		return nil, err
	}
	c.goMemory.Apply()
	m, err := c.metrics.Start("redshift", env.Name, env.Log)
	if err != nil {
		return nil, err
	}
	p := &pluginOutput{metrics: m}
	opts := []Option{WithMaxEventSize(c.maxEvent)}
	if c.validate {
		if p.validator, err = validate.Open(c.validator, env.Log); err != nil {
			m.Close()
			return nil, err
		}
		opts = append(opts, WithModel(p.validator))
	}
	if p.Output, err = startOutput(env, c.loader, opts...); err != nil {
		p.close()
		return nil, err
	}
	m.Register(metricTable(&p.Output.Stats))
	return p, nil
}

// metricTable declares the output's metrics over its Stats.
func metricTable(s *Stats) []metrics.Func {
	return []metrics.Func{
		{Name: "redshift_batches_total", Help: "Batch loads tried (one transaction each).", Value: metrics.Int(s.Batches.Load)},
		{Name: "redshift_transactions_total", Help: "Batches committed.", Value: metrics.Int(s.Transactions.Load)},
		{Name: "redshift_failed_batches_total", Help: "Batches that failed (their flushes were retried).", Value: metrics.Int(s.FailedBatches.Load)},
		{Name: "redshift_retries_total", Help: "Flushes answered RETRY.", Value: metrics.Int(s.Retries.Load)},
		{Name: "redshift_flushes_total", Help: "Flushes answered by committed batches.", Value: metrics.Int(s.Flushes.Load)},
		{Name: "redshift_batch_rows_total", Help: "Rows in committed batches.", Value: metrics.Int(s.BatchRows.Load)},
		{Name: "redshift_failures_dropped_total", Help: "Failure rows the failures table refused even in minimal form.", Value: metrics.Int(s.FailuresDropped.Load)},
		{Name: "redshift_conflicts_total", Help: "Transactions rolled back by a conflict with another transaction (Redshift error 1023, serialization failure, deadlock).", Value: metrics.Int(s.Conflicts.Load)},
		{Name: "redshift_loads_refused_total", Help: "Tables whose batch rows became LOAD_REJECTED after max_load_attempts refusals that named no row.", Value: metrics.Int(s.LoadsRefused.Load)},
		{Name: "redshift_load_seconds_total", Help: "Time spent loading batches, in seconds.", Value: func() float64 { return float64(s.LoadNanos.Load()) / 1e9 }},
		{Name: "redshift_batch_rows_max", Help: "Rows in the largest committed batch.", Gauge: true, Value: metrics.Int(s.BatchRowsMax.Load)},
		{Name: "redshift_load_seconds_max", Help: "Longest batch load, in seconds.", Gauge: true, Value: func() float64 { return float64(s.LoadNanosMax.Load()) / 1e9 }},
		// Their label values are bounded where they are counted (committed).
		{Name: "redshift_rows_loaded_total", Help: "Rows committed, per table of the data model (failures table included; others as OTHER).", Labels: []string{"table"}, Series: metrics.Map(s.RowsLoaded)},
		{Name: "redshift_failures_total", Help: "Failure rows committed, per error code (unknown codes as OTHER).", Labels: []string{"code"}, Series: metrics.Map(s.FailuresByCode)},
	}
}

func (p *pluginOutput) Close() error {
	var err error
	if p.Output != nil {
		err = p.Output.Close()
	}
	p.close()
	return err
}

func (p *pluginOutput) close() {
	if p.validator != nil {
		p.validator.Close()
	}
	p.metrics.Close()
}

// modelSchemas gives auto_create the SQL types of the data model's fields.
type modelSchemas struct{ v *validate.Validator }

func (m modelSchemas) ColumnType(table, column string, d Dialect) (string, bool) {
	f, ok := m.v.Column(table, column)
	if !ok {
		return "", false
	}
	switch f.Type {
	case "string":
		if d == Postgres {
			return "TEXT", true
		}
		n := f.MaxLength
		if n == 0 {
			n = validate.DefaultStringMaxLength
		}
		return fmt.Sprintf("VARCHAR(%d)", n), true
	case "integer":
		return "BIGINT", true
	case "number":
		return "DOUBLE PRECISION", true
	case "boolean":
		return "BOOLEAN", true
	case "timestamp":
		return "TIMESTAMP", true
	case "object", "array":
		if d == Redshift {
			return "SUPER", true
		}
		return "TEXT", true
	}
	return "", false
}
