// goyaml prints each document of each file as Kubernetes reads it: the stream is split at `---` lines as
// apimachinery's YAMLReader splits it, then each part is decoded by go-yaml v2 and v3 into interface{}.
// One JSON line per file: {"path": ..., "v2": {"docs": [...], "errors": N}, "v3": {...}}.
// Scalars are written as the Rust side writes them (see go_value in src/manifest/yaml.rs).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	yaml2 "gopkg.in/yaml.v2"
	yaml3 "gopkg.in/yaml.v3"
)

func split(data []byte) [][]byte {
	var parts [][]byte
	var buf bytes.Buffer
	r := bufio.NewReader(bytes.NewReader(data))
	for {
		line, err := r.ReadBytes('\n')
		if bytes.HasPrefix(line, []byte("---")) {
			rest := strings.TrimSpace(string(line[3:]))
			if rest == "" || strings.HasPrefix(rest, "#") {
				if buf.Len() > 0 {
					parts = append(parts, append([]byte(nil), buf.Bytes()...))
					buf.Reset()
				}
				if err != nil {
					break
				}
				continue
			}
		}
		buf.Write(line)
		if err != nil {
			break
		}
	}
	if buf.Len() > 0 {
		parts = append(parts, buf.Bytes())
	}
	return parts
}

func canon(v interface{}) (interface{}, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case bool:
		return fmt.Sprintf("bool:%v", x), nil
	case int:
		return fmt.Sprintf("int:%d", x), nil
	case int64:
		return fmt.Sprintf("int:%d", x), nil
	case uint64:
		return fmt.Sprintf("int:%d", x), nil
	case float64:
		if math.IsNaN(x) {
			return "float:nan", nil
		}
		return fmt.Sprintf("float:%016x", math.Float64bits(x)), nil
	case string:
		return "str:" + x, nil
	case time.Time:
		return "ts", nil
	case []interface{}:
		out := make([]interface{}, len(x))
		for i, e := range x {
			c, err := canon(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[interface{}]interface{}:
		out := map[string]interface{}{}
		for k, e := range x {
			ck, err := canon(k)
			if err != nil {
				return nil, err
			}
			s, ok := ck.(string)
			if !ok {
				return nil, fmt.Errorf("complex key")
			}
			c, err := canon(e)
			if err != nil {
				return nil, err
			}
			out[s] = c
		}
		return out, nil
	case map[string]interface{}:
		out := map[string]interface{}{}
		for k, e := range x {
			c, err := canon(e)
			if err != nil {
				return nil, err
			}
			out["str:"+k] = c
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown type %T", v)
}

type side struct {
	Docs   []interface{} `json:"docs"`
	Errors []string      `json:"errors"`
}

func read(parts [][]byte, unmarshal func([]byte, interface{}) error) (s side) {
	s.Docs = []interface{}{}
	s.Errors = []string{}
	for _, p := range parts {
		var v interface{}
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v", r)
				}
			}()
			return unmarshal(p, &v)
		}()
		if err != nil {
			s.Errors = append(s.Errors, err.Error())
			continue
		}
		if v == nil {
			continue
		}
		c, err := canon(v)
		if err != nil {
			s.Errors = append(s.Errors, err.Error())
			continue
		}
		s.Docs = append(s.Docs, c)
	}
	return
}

func main() {
	paths := os.Args[1:]
	sort.Strings(paths)
	enc := json.NewEncoder(os.Stdout)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		parts := split(data)
		out := map[string]interface{}{
			"path": p,
			"v2":   read(parts, yaml2.Unmarshal),
			"v3":   read(parts, yaml3.Unmarshal),
		}
		if err := enc.Encode(out); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
}
