package redshift

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// stage writes, for every table of the batch, its rows as gzip'd JSON-lines
// files, a JSONPaths file and a manifest to S3 (load_method copy).
func (o *Output) stage(ctx context.Context, b *batch) error {
	all := b.tables
	if b.failures != nil {
		all = append(all[:len(all):len(all)], b.failures)
	}
	if b.day == "" {
		b.day = time.Now().UTC().Format("2006/01/02")
	}
	for _, tl := range all {
		// a folder per attempt: the load error table names files, and an
		// attempt's files must not be taken for an earlier attempt's
		base := o.stager.prefix + b.day + "/" + b.id + "/" + strconv.Itoa(b.attempt) + "/" + tl.name.schema + "." + tl.name.table + "/"
		vals := make([]record.Value, len(tl.cols))
		tl.files = tl.files[:0]
		var data []byte
		first := 0
		flush := func(end int) error {
			key := fmt.Sprintf("%spart-%05d.json.gz", base, len(tl.files))
			gz := gzipBytes(data)
			if err := o.stager.put(ctx, key, gz, "application/gzip"); err != nil {
				return err
			}
			f := stagedFile{url: o.stager.url(key), first: first, rows: end - first, size: int64(len(gz))}
			tl.files = append(tl.files, f)
			b.staged[f.url] = tl.recs[first:end:end]
			data, first = data[:0], end
			return nil
		}
		for i, r := range tl.recs {
			data = appendJSONRow(data, tl.values(vals, r, b), tl.cols)
			if len(data) >= copyFileBytes {
				if err := flush(i + 1); err != nil {
					return err
				}
			}
		}
		if len(data) > 0 || len(tl.files) == 0 {
			if err := flush(len(tl.recs)); err != nil {
				return err
			}
		}
		var jp jsonPaths
		for _, c := range tl.cols {
			jp.JSONPaths = append(jp.JSONPaths, "$['"+c.name+"']")
		}
		if err := o.stager.put(ctx, base+"jsonpaths.json", mustJSON(jp), "application/json"); err != nil {
			return err
		}
		tl.jsonpathsURL = o.stager.url(base + "jsonpaths.json")
		var m manifest
		for _, f := range tl.files {
			// content_length is required only for columnar formats; it is
			// known, so it is given.
			m.Entries = append(m.Entries, manifestEntry{URL: f.url, Mandatory: true, Meta: manifestMeta{ContentLength: f.size}})
		}
		if err := o.stager.put(ctx, base+"manifest.json", mustJSON(m), "application/json"); err != nil {
			return err
		}
		tl.manifestURL = o.stager.url(base + "manifest.json")
	}
	return nil
}

// copySQL is the COPY of one table's staged files into table into.
func (o *Output) copySQL(tl *tableLoad, into, cols string) string {
	var b strings.Builder
	b.WriteString("COPY " + into + " (" + cols + ") FROM " + quoteLiteral(tl.manifestURL, Redshift))
	switch {
	case o.cfg.copyCredentials != "":
		b.WriteString(" CREDENTIALS " + quoteLiteral(o.cfg.copyCredentials, Redshift))
	case o.cfg.iamRole == "default":
		b.WriteString(" IAM_ROLE default")
	default:
		b.WriteString(" IAM_ROLE " + quoteLiteral(o.cfg.iamRole, Redshift))
	}
	b.WriteString(" MANIFEST FORMAT AS JSON " + quoteLiteral(tl.jsonpathsURL, Redshift))
	b.WriteString(" GZIP TIMEFORMAT 'auto'")
	if o.cfg.s3.Region != "" {
		b.WriteString(" REGION " + quoteLiteral(o.cfg.s3.Region, Redshift))
	}
	if o.cfg.dedupe { // a fresh staging table: skip compression analysis and statistics
		b.WriteString(" COMPUPDATE OFF STATUPDATE OFF")
	}
	return b.String()
}

// loadErrorsSQL reads why COPYs of the files matching pattern failed,
// from SYS_LOAD_ERROR_DETAIL: it exists on provisioned clusters and on
// Serverless (where STL tables cannot be queried), and unlike
// STL_LOAD_ERRORS WHERE query = pg_last_copy_id() it answers after the
// COPY's transaction rolled back. file_name is the S3 object of the bad
// line.
func loadErrorsSQL(pattern string) string {
	return "SELECT TRIM(file_name), line_number, TRIM(column_name), error_code, TRIM(error_message) " +
		"FROM sys_load_error_detail WHERE file_name LIKE " + quoteLiteral(pattern, Redshift) + " ORDER BY start_time, line_number"
}

// loadErrorsPattern matches the files of table t staged by any attempt of
// batch b: a line of an earlier attempt that the view shows only now
// still names its row (b.staged keeps every file's rows).
func (o *Output) loadErrorsPattern(b *batch, t tableName) string {
	return o.stager.url(o.stager.prefix+b.day+"/"+b.id+"/") + "%/" + t.schema + "." + t.table + "/%"
}

// isolateCopy reads SYS_LOAD_ERROR_DETAIL for the failed COPYs of the
// table in this batch (the transaction is already rolled back; the system
// view keeps its rows) and marks the rows it names rejected. COPY stops at
// its first bad row (MAXERROR 0), so each attempt isolates one row; rows
// that load are retried in the same batch.
func (o *Output) isolateCopy(ctx context.Context, s Session, b *batch, te *tableErr) (int, error) {
	rows, err := s.Query(ctx, loadErrorsSQL(o.loadErrorsPattern(b, te.t.name)))
	if err != nil {
		return 0, fmt.Errorf("reading sys_load_error_detail after %v: %w", te.err, err)
	}
	found := 0
	for _, row := range rows {
		if len(row) < 5 {
			continue
		}
		line, err := strconv.Atoi(strings.TrimSpace(row[1]))
		if err != nil || line < 1 {
			continue
		}
		if recs := b.staged[strings.TrimSpace(row[0])]; line <= len(recs) {
			r := recs[line-1]
			msg := fmt.Sprintf("column %s: %s (Redshift load error %s)", strings.TrimSpace(row[2]), strings.TrimSpace(row[4]), strings.TrimSpace(row[3]))
			key := rejectKey{r, te.t.name.String()}
			if _, ok := b.rejected[key]; !ok {
				b.rejected[key] = msg
				found++
			}
		}
	}
	if found > 0 {
		o.env.Log.Warnf("%d row(s) rejected by %s (sys_load_error_detail) went to %s as %s", found, te.t.name, o.cfg.failures, failcode.LoadRejected)
	}
	return found, nil
}
