import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { decisionClient } from "../../client/grpc-client.js";
import { type TestServer, http, startServer } from "../helpers/server.js";

describe("the example cluster over REST and gRPC", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer(["examples/cluster"]);
  });
  after(async () => server.close());

  it("allows y/b to x/a on TCP 80 through x/allow-y-to-a, over both doors", async () => {
    const rest = await http(server, "GET", "/v1/check?src=y/b&dst=x/a&port=80&explain=true");
    assert.equal(rest.status, 200);
    assert.equal(rest.body.allowed, true);
    assert.deepEqual(rest.body.ingress.policies, ["x/allow-y-to-a"]);
    const grpc = decisionClient(server.grpcAddress);
    try {
      const res = await grpc.unary("check", { src: "y/b", dst: "x/a", port: 80, protocol: "tcp", explain: true });
      assert.equal(res.allowed, true);
      assert.equal(res.ingress?.verdicts[0]?.rules[0]?.port, "spec.ingress[0].ports[0]");
    } finally {
      grpc.close();
    }
  });
});
