module github.com/whirlpool-events/whirlpool

go 1.26

require (
	github.com/fluent/fluent-bit-go v0.0.0-20230731091245-a7a013e2473c
	github.com/google/uuid v1.6.0
	github.com/json-iterator/go v1.1.12
	github.com/tinylib/msgp v1.6.5
)

require (
	github.com/modern-go/concurrent v0.0.0-20180228061459-e0a39a4cb421 // indirect
	github.com/modern-go/reflect2 v1.0.2 // indirect
	github.com/philhofer/fwd v1.2.0 // indirect
	github.com/ugorji/go/codec v1.1.7 // indirect
)
