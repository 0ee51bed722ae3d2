module example.com/conformance/go-adapter

go 1.19
