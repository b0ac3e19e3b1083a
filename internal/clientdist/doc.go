// Package clientdist embeds the official browser client (socket.io-client@4
// dist files) when they were copied into dist/ before the build: `make
// client` does that from the locked npm package. The files are not committed
// (third-party code stays out of the tree); without them Lookup finds
// nothing and the server answers 404 with instructions.
package clientdist
