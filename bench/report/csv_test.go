package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The header is part of the file format: a change here breaks readers of old files.
const wantMetricsHeader = "model,label,workload,depth,reps,prompt_tokens,tokens,ttft_ms_mean,ttft_ms_sd," +
	"prompt_tps_mean,prompt_tps_sd,decode_tps_mean,decode_tps_sd,decode_tps_min,decode_tps_max," +
	"decode_tps_p50,e2e_ms_mean,itl_ms_p50,itl_ms_p90,itl_ms_p99,engine_prompt_tps," +
	"engine_eval_tps,harness_overhead,peak_vram_mib,j_per_token,mean_power_w,roofline_pct," +
	"gpu_unavailable,load_cold_ms,load_warm_ms"

func readCSV(t *testing.T, data string) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func TestWriteMetricsCSV(t *testing.T) {
	tests := []struct {
		name  string
		dir   string
		rows  int
		check func(t *testing.T, rows []map[string]string)
	}{
		{"H200", "h200", 2, func(t *testing.T, rows []map[string]string) {
			pp, tg := rows[0], rows[1]
			assert.Equal(t, "pp512", pp["label"])
			assert.Equal(t, "prompt", pp["workload"])
			assert.Equal(t, "", pp["decode_tps_mean"], "pp512 has no decode rate")
			assert.Equal(t, "", pp["roofline_pct"], "prompt processing has no roofline")
			assert.Equal(t, "16759.81139678404", pp["prompt_tps_mean"])
			assert.Equal(t, "tg128", tg["label"])
			assert.Equal(t, "333.77896252119484", tg["decode_tps_mean"])
			assert.Equal(t, "3.12312874", tg["itl_ms_p99"])
			assert.Equal(t, "3334", tg["peak_vram_mib"])
			assert.Equal(t, "0.026864274806221", tg["harness_overhead"])
			assert.Equal(t, "11.803798925463488", tg["roofline_pct"])
			assert.Equal(t, "", tg["gpu_unavailable"])
			assert.Equal(t, "1056.45992", tg["load_cold_ms"])
		}},
		{"without GPU", "nomonitor", 1, func(t *testing.T, rows []map[string]string) {
			tg := rows[0]
			for _, col := range []string{"peak_vram_mib", "j_per_token", "mean_power_w", "roofline_pct"} {
				assert.Equal(t, "", tg[col], col)
			}
			assert.Equal(t, "no GPU monitor", tg["gpu_unavailable"])
			assert.NotEmpty(t, tg["decode_tps_mean"])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := loadResult(t, tt.dir, fixtureNames[0])
			var b bytes.Buffer
			require.NoError(t, WriteMetricsCSV(&b, res))
			header, _, _ := strings.Cut(b.String(), "\n")
			assert.Equal(t, wantMetricsHeader, header)
			rows := readCSV(t, b.String())
			require.Len(t, rows, tt.rows)
			for _, r := range rows {
				assert.Equal(t, res.Name, r["model"])
				assert.NotContains(t, strings.Join(mapValues(r), ","), "e+", "no exponents")
			}
			tt.check(t, rows)
		})
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestWriteMetricsCSVNoMeasures(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteMetricsCSV(&b, cpuResult("x", 1)))
	assert.Len(t, readCSV(t, b.String()), 1)
	b.Reset()
	res := cpuResult("x", 1)
	res.Measures = nil
	require.NoError(t, WriteMetricsCSV(&b, res))
	assert.Equal(t, wantMetricsHeader+"\n", b.String())
}
