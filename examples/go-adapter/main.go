// Command go-adapter is a conformance adapter in Go, standard library only: the HIST area
// (spec/hist.md) over the adapter protocol (spec/adapter-protocol.md).
//
//	go build -o go-adapter . && pytest --impl="exec:./go-adapter" --conformance-debug-protocol
//
// Requests are answered one at a time, in arrival order, which the spec allows for the
// concurrency requirements (HIST-009, HIST-018).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"
)

const protocol = "1.2"

// epoch is where every instance's clock starts: 2026-01-01T00:00:00Z.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// adapterError is an error reply: a code from the protocol's fixed set and a message.
type adapterError struct{ code, message string }

func (e *adapterError) Error() string { return e.message }

func fail(code, format string, a ...any) error {
	return &adapterError{code, fmt.Sprintf(format, a...)}
}

// instance is what one kit.begin creates: a storage directory, a clock, and the areas opened in it.
type instance struct {
	storageDir string
	now        time.Time
	hist       *hist
	// the args and result of the instance's last area operation, for kit.mutate
	lastArgs, lastResult any
	haveLast             bool
}

type request struct {
	ID       json.Number    `json:"id"`
	Op       string         `json:"op"`
	Instance string         `json:"instance"`
	Args     map[string]any `json:"args"`
}

var instances = map[string]*instance{}

func run(req *request) (any, error) {
	args := req.Args
	if req.Op == "kit.hello" {
		return map[string]any{
			"protocol": protocol,
			"implementation": map[string]any{
				"name": "go-adapter", "version": "0.2.0", "spec_version": "0.2.0",
				"claims": histClaims,
			},
		}, nil
	}
	if req.Op == "kit.begin" {
		dir, ok := args["storage_dir"].(string)
		if !ok {
			return nil, fail("bad_request", "kit.begin needs a storage_dir string")
		}
		instances[req.Instance] = &instance{storageDir: dir, now: epoch}
		return nil, nil
	}
	in, ok := instances[req.Instance]
	if !ok {
		return nil, fail("bad_request", "unknown instance %q; kit.begin creates one", req.Instance)
	}
	switch req.Op {
	case "kit.end":
		delete(instances, req.Instance)
		in.end()
		return nil, nil
	case "kit.advance_clock":
		seconds, err := asFloat(args["seconds"])
		if err != nil || seconds < 0 {
			return nil, fail("bad_request", "kit.advance_clock needs seconds, a finite number >= 0")
		}
		in.now = in.now.Add(time.Duration(math.RoundToEven(seconds*1e6)) * time.Microsecond)
		return nil, nil
	case "kit.mutate":
		return nil, in.mutate(args)
	}
	in.haveLast = false
	given := materialize(args).(map[string]any)
	var result any
	var err error
	if op, ok := histOps[req.Op]; ok {
		if in.hist == nil {
			in.hist = newHist(in)
		}
		result, err = op(in.hist, given)
	} else {
		return nil, fail("unsupported", "this adapter does not implement %s", req.Op)
	}
	if err == nil {
		in.lastArgs, in.lastResult, in.haveLast = given, result, true
	}
	return result, err
}

func (in *instance) end() {
	if in.hist != nil {
		in.hist.end()
	}
}

func asFloat(v any) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, errors.New("not a number")
	}
	return n.Float64()
}

func reply(w *bufio.Writer, message map[string]any) {
	line, err := encode(message)
	if err != nil { // a value this adapter cannot write is its own bug: say so, as an internal error
		fmt.Fprintf(os.Stderr, "go-adapter: cannot encode the reply: %v\n", err)
		line, _ = encode(map[string]any{"id": message["id"], "error": map[string]any{"code": "internal", "message": err.Error()}})
	}
	w.Write(line)
	w.WriteByte('\n')
	w.Flush()
}

func handle(w *bufio.Writer, line []byte) {
	var req request
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber() // keep every number's digits: 2.0 stays a float, 2^64+1 stays exact
	if err := dec.Decode(&req); err != nil {
		fmt.Fprintf(os.Stderr, "go-adapter: ignoring a line that is not a request: %v\n", err)
		return
	}
	if req.Args == nil {
		req.Args = map[string]any{}
	}
	result, err := run(&req)
	var ae *adapterError
	switch {
	case err == nil:
		reply(w, map[string]any{"id": req.ID, "result": result})
	case errors.As(err, &ae):
		reply(w, map[string]any{"id": req.ID, "error": map[string]any{"code": ae.code, "message": ae.message}})
	default:
		fmt.Fprintf(os.Stderr, "go-adapter: %s failed: %v\n", req.Op, err)
		reply(w, map[string]any{"id": req.ID, "error": map[string]any{"code": "internal", "message": err.Error(), "type": fmt.Sprintf("%T", err)}})
	}
}

func main() {
	// bufio.Reader, not bufio.Scanner: a request line can be megabytes long (Scanner stops at 64 KiB).
	r := bufio.NewReaderSize(os.Stdin, 1<<20)
	w := bufio.NewWriterSize(os.Stdout, 1<<16)
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			handle(w, line)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "go-adapter: reading stdin: %v\n", err)
			os.Exit(1)
		}
	}
	for _, in := range instances {
		in.end()
	}
}
