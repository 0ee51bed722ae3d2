package main

import (
	"encoding/json"
	"strconv"
)

// mutate is kit.mutate: change, in place, the very values the last area operation passed to the
// store or got back from it, as a careless caller would (HIST-028).
func (in *instance) mutate(args map[string]any) error {
	if !in.haveLast {
		return fail("bad_request", "kit.mutate: no area operation to change")
	}
	var root any
	switch args["of"] {
	case "args":
		root = in.lastArgs
	case "result":
		root = in.lastResult
	default:
		return fail("bad_request", "kit.mutate: of is \"args\" or \"result\"")
	}
	path, _ := args["path"].([]any)
	value, appending := args["append"]
	if !appending {
		value = args["set"]
	}
	// A holder makes the root a member like any other, so that appending can replace it.
	holder := []any{root}
	steps := append([]any{json.Number("0")}, path...)
	parent := any(holder)
	for _, step := range steps[:len(steps)-1] {
		next, ok := at(parent, step)
		if !ok {
			return fail("bad_request", "kit.mutate: %v does not exist", path)
		}
		parent = next
	}
	last := steps[len(steps)-1]
	if appending {
		target, ok := at(parent, last)
		list, isList := target.([]any)
		if !ok || !isList {
			return fail("bad_request", "kit.mutate: %v is not an array", path)
		}
		return put(parent, last, append(list, value))
	}
	if len(path) == 0 {
		return fail("bad_request", "kit.mutate: set needs a path")
	}
	if _, ok := at(parent, last); !ok {
		if _, isMap := parent.(map[string]any); !isMap {
			return fail("bad_request", "kit.mutate: %v does not exist", path)
		}
	}
	return put(parent, last, value)
}

func at(container, step any) (any, bool) {
	switch c := container.(type) {
	case map[string]any:
		k, ok := step.(string)
		if !ok {
			return nil, false
		}
		v, ok := c[k]
		return v, ok
	case []any:
		i, ok := index(step, len(c))
		if !ok {
			return nil, false
		}
		return c[i], true
	}
	return nil, false
}

func put(container, step, value any) error {
	switch c := container.(type) {
	case map[string]any:
		if k, ok := step.(string); ok {
			c[k] = value
			return nil
		}
	case []any:
		if i, ok := index(step, len(c)); ok {
			c[i] = value
			return nil
		}
	}
	return fail("bad_request", "kit.mutate: cannot change %v", step)
}

func index(step any, n int) (int, bool) {
	num, ok := step.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(string(num))
	if err != nil {
		return 0, false
	}
	if i < 0 {
		i += n
	}
	return i, i >= 0 && i < n
}
