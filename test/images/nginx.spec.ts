import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { IMAGES, killStarted, requireProgram, Running, sleep, start } from "./support";
import { tempDir } from "../tempDirs";

// Debian's nginx with images/nginx.conf, unchanged, on loopback: it listens on 8000 (the
// container port) in front of a stand-in app server on 127.0.0.1:6543, and runs unprivileged
// (as nobody when the tests run as root) as the image runs it as the nginx user.

const NGINX_PORT = 8000;
const APP_PORT = 6543;
const NOBODY = 65534;

interface Seen {
    method: string;
    url: string;
    httpVersion: string;
    headers: http.IncomingHttpHeaders;
    body: string;
}

interface Reply {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

function request(
    method: string,
    urlPath: string,
    headers: Record<string, string>,
    body?: string,
): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const req = http.request(
            { host: "127.0.0.1", port: NGINX_PORT, method, path: urlPath, headers, agent: false, timeout: 5000 },
            (res) => {
                let text = "";
                res.setEncoding("utf8").on("data", (d: string) => (text += d));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
            },
        );
        req.on("timeout", () => req.destroy(new Error(`${method} ${urlPath}: no answer within 5 s`)));
        req.on("error", reject);
        req.end(body);
    });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepting(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ host: "127.0.0.1", port });
        socket.setTimeout(500);
        socket.on("connect", () => {
            socket.destroy();
            resolve(true);
        });
        socket.on("error", () => resolve(false));
        socket.on("timeout", () => {
            socket.destroy();
            resolve(false);
        });
    });
}

describe("images/nginx.conf in front of the app", function () {
    this.timeout(20000);
    let seen: Seen[] = [];
    let healthStatus = 200;
    let upstream: http.Server | undefined;
    let nginx: Running | undefined;
    let prefix: string | undefined;

    before(async () => {
        const binary = requireProgram("nginx", "nginx", ["/usr/sbin/nginx"]);
        if (await accepting(NGINX_PORT)) {
            throw new Error(`port ${NGINX_PORT} on 127.0.0.1 is already in use; the nginx test needs it free`);
        }

        upstream = http.createServer((req, res) => {
            let body = "";
            req.setEncoding("utf8").on("data", (d: string) => (body += d));
            req.on("end", () => {
                seen.push({ method: req.method ?? "", url: req.url ?? "", httpVersion: req.httpVersion, headers: req.headers, body });
                const status = req.url?.startsWith("/health") ? healthStatus : 200;
                // /user-info?bytes=N: a response with an X-User-Info header of N bytes, as the app's
                // responses to a logged-in user carry (snovault's user info, JSON).
                const bytes = /^\/user-info\?bytes=(\d+)$/.exec(req.url ?? "")?.[1];
                res.writeHead(status, { "Content-Type": "application/json", ...(bytes ? { "X-User-Info": "u".repeat(Number(bytes)) } : {}) });
                res.end(JSON.stringify({ from: "app", url: req.url }));
            });
        });
        await new Promise<void>((resolve, reject) => {
            upstream!.once("error", (error: NodeJS.ErrnoException) =>
                reject(
                    error.code === "EADDRINUSE"
                        ? new Error(`port ${APP_PORT} on 127.0.0.1 is already in use; the nginx test needs it free`)
                        : error,
                ),
            );
            upstream!.listen(APP_PORT, "127.0.0.1", resolve);
        });

        // The conf is copied unchanged into the prefix so that an unprivileged nginx can read it.
        prefix = tempDir("nginx");
        const conf = path.join(prefix, "nginx.conf");
        fs.copyFileSync(path.join(IMAGES, "nginx.conf"), conf);
        const asRoot = process.getuid?.() === 0;
        if (asRoot) {
            fs.chownSync(prefix, NOBODY, NOBODY);
        }
        nginx = start(binary, ["-e", "stderr", "-p", `${prefix}/`, "-c", conf, "-g", "daemon off;"], {
            env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
            uid: asRoot ? NOBODY : undefined,
            gid: asRoot ? NOBODY : undefined,
        });

        const deadline = Date.now() + 5000;
        while (!(await accepting(NGINX_PORT))) {
            if (nginx.exit) {
                throw new Error(`nginx exited (${JSON.stringify(nginx.exit)}):\n${nginx.stderr}`);
            }
            if (Date.now() > deadline) {
                throw new Error(`nginx did not listen on ${NGINX_PORT} within 5 s:\n${nginx.stderr}`);
            }
            await sleep(50);
        }
    });

    after(async () => {
        if (nginx && !nginx.exit) {
            // Fast shutdown: the master stops its workers and exits; killStarted is the fallback.
            process.kill(nginx.pid, "SIGTERM");
            await nginx.waitExit(5000).catch(() => undefined);
        }
        await killStarted();
        if (upstream) {
            upstream.closeAllConnections();
            await new Promise((resolve) => upstream!.close(resolve));
        }
        if (prefix) {
            fs.rmSync(prefix, { recursive: true, force: true });
        }
    });

    beforeEach(() => {
        seen = [];
        healthStatus = 200;
    });

    it("runs as an unprivileged user, writing only under its prefix", () => {
        const status = fs.readFileSync(`/proc/${nginx!.pid}/status`, "utf8");
        const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
        assert.notEqual(uid, 0, "nginx runs as root");
        assert.ok(fs.existsSync(path.join(prefix!, "nginx.pid")), "pid file not under the prefix");
    });

    it("passes the load balancer's health check through, with its host and forwarded headers", async () => {
        const reply = await request("GET", "/health?format=json", {
            Host: "cgap.example.org",
            "X-Forwarded-For": "203.0.113.7",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Port": "443",
        });
        assert.equal(reply.status, 200);
        assert.deepEqual(JSON.parse(reply.body), { from: "app", url: "/health?format=json" });
        assert.equal(seen.length, 1);
        const [health] = seen;
        assert.equal(health.method, "GET");
        assert.equal(health.url, "/health?format=json");
        assert.equal(health.httpVersion, "1.1");
        assert.equal(health.headers.host, "cgap.example.org");
        assert.equal(health.headers["x-forwarded-for"], "203.0.113.7, 127.0.0.1");
        assert.equal(health.headers["x-forwarded-proto"], "https");
        assert.equal(health.headers["x-forwarded-port"], "443");
    });

    it("answers every request while four of the five workers are down (restarting after a memory kill)", async () => {
        // Only 6543 listens here; 6544-6547 refuse connections, as a worker does between its
        // memory filter's kill and its restart. nginx must try the next worker, never answer 502.
        const before = seen.length;
        for (let i = 0; i < 12; i++) {
            const reply = await request("GET", `/search/?type=Item&i=${i}`, {});
            assert.equal(reply.status, 200, `request ${i}: ${reply.body}`);
        }
        assert.equal(seen.length - before, 12);
    });

    it("reports an unhealthy app to the load balancer", async () => {
        healthStatus = 503;
        const reply = await request("GET", "/health?format=json", { Host: "cgap.example.org" });
        assert.equal(reply.status, 503);
    });

    it("proxies an ordinary path, filling in the forwarded headers for a direct request", async () => {
        const reply = await request("GET", "/search/?type=Case&q=BRCA1", { Host: "localhost:8000" });
        assert.equal(reply.status, 200);
        assert.equal(seen.length, 1);
        const [search] = seen;
        assert.equal(search.url, "/search/?type=Case&q=BRCA1");
        assert.equal(search.headers.host, "localhost:8000");
        assert.equal(search.headers["x-forwarded-for"], "127.0.0.1");
        assert.equal(search.headers["x-forwarded-proto"], "http");
        assert.equal(search.headers["x-forwarded-port"], String(NGINX_PORT));
    });

    // cgap-portal v15.6.0 deploy/docker/production/nginx.conf: proxy_buffer_size 1m and
    // large_client_header_buffers 4 32k. nginx's defaults (one memory page, 4 KiB, for the
    // upstream's headers; 8 KiB per client header line) answer 502 "upstream sent too big header"
    // and 400 "Request Header Or Cookie Too Large".
    it("passes a response whose headers are over 4 KiB (a logged-in user's X-User-Info)", async () => {
        for (const bytes of [6000, 12000]) {
            const reply = await request("GET", `/user-info?bytes=${bytes}`, { Host: "cgap.example.org" });
            assert.equal(reply.status, 200, `${bytes} bytes: ${reply.body}`);
            assert.equal(String(reply.headers["x-user-info"]).length, bytes);
        }
    });

    it("passes a request whose cookie is over 8 KiB, to the app intact", async () => {
        const cookie = `jwtToken=${"c".repeat(12000)}`;
        seen = [];
        const reply = await request("GET", "/me", { Host: "cgap.example.org", Cookie: cookie });
        assert.equal(reply.status, 200, reply.body);
        assert.equal(seen[0].headers.cookie, cookie);
    });

    it("proxies a POST with its body", async () => {
        const body = JSON.stringify({ institution: "/institutions/hms-dbmi/", project: "/projects/cgap-core/" });
        const reply = await request("POST", "/IngestionSubmission", {
            Host: "cgap.example.org",
            "Content-Type": "application/json",
            "Content-Length": String(Buffer.byteLength(body)),
        }, body);
        assert.equal(reply.status, 200);
        assert.equal(seen.length, 1);
        assert.equal(seen[0].method, "POST");
        assert.equal(seen[0].body, body);
        assert.equal(seen[0].headers["content-type"], "application/json");
    });

    for (const [requested, location] of [
        ["/search//?type=Case", "/search/?type=Case"],
        ["/a//b///c", "/a/b///c"],
        ["//search/", "/search/"],
        ["//evil.example//", "/evil.example//"],
        ["////evil.example", "/evil.example"],
    ]) {
        it(`redirects ${requested} to ${location}, never to another host`, async () => {
            const reply = await request("GET", requested, { Host: "cgap.example.org" });
            assert.equal(reply.status, 301);
            assert.equal(reply.headers.location, location);
            assert.match(reply.headers.location ?? "", /^\/(?!\/)/, "a Location starting with // names another host");
            assert.equal(seen.length, 0, "a redirect is answered by nginx alone");
        });
    }
});
