package plugin

// The generated code of the protocol (proto/decnetdb/v1/*.pb.go) is
// committed; TestGeneratedCodeIsCurrent fails when it is stale. protogen
// pins protoc-gen-go and protoc-gen-go-grpc; protoc comes from the system
// (Debian: protobuf-compiler).
//go:generate go run ./internal/protogen
