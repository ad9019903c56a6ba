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
	day := time.Now().UTC().Format("2006/01/02")
	for _, tl := range all {
		base := o.stager.prefix + day + "/" + b.id + "/" + tl.name.schema + "." + tl.name.table + "/"
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
			tl.files = append(tl.files, stagedFile{url: o.stager.url(key), first: first, rows: end - first, size: int64(len(gz))})
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

// stlLoadErrorsSQL reads why the session's last COPY failed.
const stlLoadErrorsSQL = "SELECT TRIM(filename), line_number, TRIM(colname), err_code, TRIM(err_reason) " +
	"FROM stl_load_errors WHERE query = pg_last_copy_id() ORDER BY line_number"

// isolateCopy reads STL_LOAD_ERRORS for the failed COPY (the transaction is
// already rolled back; the system table keeps its rows) and marks the rows
// it names rejected. COPY stops at its first bad row (MAXERROR 0), so each
// attempt isolates one row; rows that load are retried in the same batch.
func (o *Output) isolateCopy(ctx context.Context, s Session, b *batch, te *tableErr) (int, error) {
	rows, err := s.Query(ctx, stlLoadErrorsSQL)
	if err != nil {
		return 0, fmt.Errorf("reading stl_load_errors after %v: %w", te.err, err)
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
		for _, f := range te.t.files {
			if f.url != strings.TrimSpace(row[0]) || line > f.rows {
				continue
			}
			r := te.t.recs[f.first+line-1]
			msg := fmt.Sprintf("column %s: %s (Redshift load error %s)", strings.TrimSpace(row[2]), strings.TrimSpace(row[4]), strings.TrimSpace(row[3]))
			key := rejectKey{r, te.t.name.String()}
			if _, ok := b.rejected[key]; !ok {
				b.rejected[key] = msg
				found++
			}
		}
	}
	if found > 0 {
		o.env.Log.Warnf("%d row(s) rejected by %s (stl_load_errors) went to %s as %s", found, te.t.name, o.cfg.failures, failcode.LoadRejected)
	}
	return found, nil
}
