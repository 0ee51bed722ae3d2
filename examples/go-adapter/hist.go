package main

// HIST — the conversation-history store (spec/hist.md), kept in memory and in one JSON file.
//
// Claims hist, hist.persistent (every change is written to <storage_dir>/hist.json before the
// call returns) and hist.shared-handles (handles on one session id share one list).

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"unicode/utf8"
)

var histClaims = []string{"hist", "hist.persistent", "hist.shared-handles"}

var histOps = map[string]func(*hist, map[string]any) (any, error){
	"hist.open":          (*hist).open,
	"hist.get_items":     (*hist).getItems,
	"hist.add_items":     (*hist).addItems,
	"hist.pop_item":      (*hist).popItem,
	"hist.clear_session": (*hist).clearSession,
	"hist.close":         (*hist).close,
	"hist.restart":       (*hist).restart,
}

// checkSessionID: a string of 1 to 256 code points, no control character, no lone surrogate.
func checkSessionID(v any) (string, error) {
	id, ok := v.(string)
	if !ok {
		return "", fail("invalid_argument", "a session id is a string, not %s", describe(v))
	}
	if !utf8.ValidString(id) {
		return "", fail("invalid_argument", "a session id is valid Unicode text; this one holds a lone surrogate")
	}
	for _, r := range id {
		if r <= 0x1f || (r >= 0x7f && r <= 0x9f) {
			return "", fail("invalid_argument", "a session id cannot contain U+%04X", r)
		}
	}
	if n := utf8.RuneCountInString(id); n < 1 || n > 256 {
		return "", fail("invalid_argument", "a session id has 1 to 256 code points, this one has %d", n)
	}
	return id, nil
}

// limitOf: -1 for "no limit" (absent or null), otherwise a non-negative count.
func limitOf(args map[string]any, key string) (int, error) {
	v, present := args[key]
	if !present || v == nil {
		return -1, nil
	}
	if n, ok := v.(json.Number); ok && writtenAsInteger(n) {
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil && i >= 0 {
			if i > math.MaxInt32 {
				return math.MaxInt32, nil // more than any history holds
			}
			return int(i), nil
		}
		if len(n) > 0 && n[0] != '-' { // an integer too big for int64: larger than any history
			return math.MaxInt32, nil
		}
	}
	return 0, fail("invalid_argument", "%s is null or a non-negative integer, not %s", key, describe(v))
}

type histHandle struct {
	id           string
	defaultLimit int
	closed       bool
}

type hist struct {
	in       *instance
	sessions map[string][]any // nil until the first open: storage is opened lazily
	handles  map[string]*histHandle
	next     int
}

func newHist(in *instance) *hist {
	return &hist{in: in, handles: map[string]*histHandle{}, next: 1}
}

func (h *hist) file() string { return filepath.Join(h.in.storageDir, "hist.json") }

func (h *hist) load() error {
	h.sessions = map[string][]any{}
	data, err := os.ReadFile(h.file())
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return decode(data, &h.sessions)
}

// write stores one session's items: a new file renamed over the old one, so a crash leaves one whole.
func (h *hist) write(id string, items []any) error {
	if len(items) > 0 {
		h.sessions[id] = items
	} else {
		delete(h.sessions, id)
	}
	data, err := encode(h.sessions)
	if err != nil {
		return err
	}
	tmp := h.file() + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, h.file())
}

func (h *hist) handle(args map[string]any) (*histHandle, error) {
	name, _ := args["handle"].(string)
	hd, ok := h.handles[name]
	if !ok {
		return nil, fail("bad_request", "unknown handle %s", describe(args["handle"]))
	}
	if hd.closed {
		return nil, fail("closed", "handle %s on session %q is closed", name, hd.id)
	}
	return hd, nil
}

func (h *hist) open(args map[string]any) (any, error) {
	id, err := checkSessionID(args["session_id"])
	if err != nil {
		return nil, err
	}
	limit, err := limitOf(args, "default_limit")
	if err != nil {
		return nil, err
	}
	if h.sessions == nil {
		if err := h.load(); err != nil {
			return nil, err
		}
	}
	name := fmt.Sprintf("h%d", h.next)
	h.next++
	h.handles[name] = &histHandle{id: id, defaultLimit: limit}
	return name, nil
}

func (h *hist) getItems(args map[string]any) (any, error) {
	hd, err := h.handle(args)
	if err != nil {
		return nil, err
	}
	limit, err := limitOf(args, "limit")
	if err != nil {
		return nil, err
	}
	if limit < 0 {
		limit = hd.defaultLimit
	}
	items := h.sessions[hd.id]
	if limit >= 0 && limit < len(items) {
		items = items[len(items)-limit:]
	}
	return deepCopy(append([]any{}, items...)), nil // a copy out (HIST-028)
}

func (h *hist) addItems(args map[string]any) (any, error) {
	hd, err := h.handle(args)
	if err != nil {
		return nil, err
	}
	batch, ok := args["items"].([]any)
	if !ok {
		return nil, fail("invalid_argument", "items is an array of items, not %s", describe(args["items"]))
	}
	for k, item := range batch {
		if _, ok := item.(map[string]any); !ok {
			return nil, fail("invalid_argument", "items[%d] is a JSON object, not %s", k, describe(item))
		}
		if err := checkJSON(item, fmt.Sprintf("items[%d]", k)); err != nil {
			return nil, err
		}
	}
	if len(batch) == 0 {
		return nil, nil
	}
	items := append(append([]any{}, h.sessions[hd.id]...), deepCopy(batch).([]any)...) // a copy in (HIST-028)
	return nil, h.write(hd.id, items)
}

func (h *hist) popItem(args map[string]any) (any, error) {
	hd, err := h.handle(args)
	if err != nil {
		return nil, err
	}
	items := h.sessions[hd.id]
	if len(items) == 0 {
		return nil, nil
	}
	last := items[len(items)-1]
	if err := h.write(hd.id, append([]any{}, items[:len(items)-1]...)); err != nil {
		return nil, err
	}
	return deepCopy(last), nil
}

func (h *hist) clearSession(args map[string]any) (any, error) {
	hd, err := h.handle(args)
	if err != nil {
		return nil, err
	}
	return nil, h.write(hd.id, nil)
}

func (h *hist) close(args map[string]any) (any, error) {
	name, _ := args["handle"].(string)
	hd, ok := h.handles[name]
	if !ok {
		return nil, fail("bad_request", "unknown handle %s", describe(args["handle"]))
	}
	hd.closed = true // a second close changes nothing (HIST-024)
	return nil, nil
}

func (h *hist) restart(map[string]any) (any, error) {
	h.end()
	return nil, h.load()
}

func (h *hist) end() {
	for _, hd := range h.handles {
		hd.closed = true
	}
	h.handles = map[string]*histHandle{}
	h.sessions = nil
}
