// Command conformance is a socketfx app configured like the Socket.IO
// protocol's reference test server, so that the protocol's public test
// suites can be run against socketfx:
//
//   - listens on :3000 (or -addr), ping interval 300 ms, ping timeout 200 ms,
//     max payload 1,000,000 bytes, connect timeout 1,000 ms, CORS "*";
//   - on the main namespace and on /custom, every connection gets an "auth"
//     event carrying its handshake auth;
//   - "message" is answered with "message-back" and the same arguments
//     (text and binary); "message-with-ack" is acked with the same arguments;
//   - no other namespace exists.
package main
