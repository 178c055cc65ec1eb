package eval

import (
	"encoding/csv"
	"io"
	"math"
	"strconv"
	"time"
)

// logsHeader and qualityHeader are the CSV columns; they are part of the file formats and do
// not change.
var (
	logsHeader = []string{
		"id", "category", "question", "expected", "response", "extracted", "found", "method",
		"correct", "latency_s", "tokens",
	}
	qualityHeader = []string{
		"model", "correct", "total", "accuracy", "ci95_low", "ci95_high", "found",
		"mean_latency_s", "mean_tokens",
	}
)

// WriteLogsCSV writes the report's rows as CSV, the *_math_logs.csv file, one line per question
// under this header:
//
//	id,category,question,expected,response,extracted,found,method,correct,latency_s,tokens
//
// extracted is empty when no number was found; found and correct are "true" or "false";
// method is a [Method]; latency_s is in seconds. Numbers are written in full, without exponent.
func WriteLogsCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(logsHeader); err != nil {
		return err
	}
	for _, row := range r.Rows {
		extracted := ""
		if row.Found {
			extracted = formatFloat(row.Extracted)
		}
		if err := cw.Write([]string{
			row.ID, row.Category, row.Question, formatFloat(row.Expected), row.Response, extracted,
			strconv.FormatBool(row.Found), string(row.Method), strconv.FormatBool(row.Correct),
			seconds(row.Latency), strconv.Itoa(row.Tokens),
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteQualityCSV writes the report's summary for model as CSV, the *_quality.csv file: this
// header and one line.
//
//	model,correct,total,accuracy,ci95_low,ci95_high,found,mean_latency_s,mean_tokens
//
// accuracy and the interval bounds are fractions in [0, 1], rounded to 6 decimals (finer digits
// are noise at any sample size here); mean_latency_s is in seconds.
func WriteQualityCSV(w io.Writer, model string, r Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(qualityHeader); err != nil {
		return err
	}
	if err := cw.Write([]string{
		model, strconv.Itoa(r.Correct), strconv.Itoa(r.Total), fraction6(r.Accuracy),
		fraction6(r.CI95Low), fraction6(r.CI95High), strconv.Itoa(r.Found),
		seconds(r.MeanLatency), formatFloat(r.MeanTokens),
	}); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func fraction6(v float64) string { return formatFloat(math.Round(v*1e6) / 1e6) }

func seconds(d time.Duration) string { return formatFloat(d.Seconds()) }
