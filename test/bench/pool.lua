-- wrk script: send each request of a pre-signed pool exactly once.
--
--   wrk -t T -c C -d D --latency -s pool.lua URL -- POOLFILE T [PACE_MS]
--
-- POOLFILE holds raw HTTP requests separated by NUL bytes (bench.py writes
-- it: signed slash commands, each with its own body, so each signature is
-- new to the server's replay table). Thread i of T takes requests i, i+T,
-- i+2T, ... Once a thread has handed out its share its connections wait
-- (delay()) and the thread stops after the last response, so no request is
-- ever sent twice (a second copy would be refused as a replay). PACE_MS > 0
-- makes each connection wait that long before each request (a paced, not
-- saturating, load; latency is still timed from the write). wrk's own Requests/sec divides by the whole -d duration, so the
-- script times its threads itself (CLOCK_MONOTONIC through LuaJIT's ffi):
-- first request out to last response in.
--
-- Responses are classified from the ack text: "accepted" (a job was
-- started), "busy" (MAX_JOBS reached), "locked" (target already being
-- deployed), "other200", and non-200 statuses by code. done() prints one
-- line "BENCH_JSON {...}" that bench.py parses.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk, bench_timespec *ts);
]]
local tsbuf = ffi.new("bench_timespec")
local function now()
    ffi.C.clock_gettime(1, tsbuf) -- CLOCK_MONOTONIC
    return tonumber(tsbuf.tv_sec) + tonumber(tsbuf.tv_nsec) * 1e-9
end

local threads = {}

function setup(thread)
    thread:set("tid", #threads)
    table.insert(threads, thread)
end

function init(args)
    local path, nthreads = args[1], tonumber(args[2])
    pace = tonumber(args[3] or "0")
    local f = assert(io.open(path, "rb"))
    local data = f:read("*a")
    f:close()
    pool = {}
    local i, k = 1, 0
    while true do
        local j = string.find(data, "\0", i, true)
        if not j then break end
        if k % nthreads == tid then pool[#pool + 1] = string.sub(data, i, j - 1) end
        k = k + 1
        i = j + 1
    end
    n, reserved, sent, got = #pool, 0, 0, 0
    t0, t1 = 0, 0
    accepted, busy, locked, other200, non200 = 0, 0, 0, 0, 0
    codes = ""
end

-- wrk calls delay() before each request() of a connection (the first one
-- included), so counting here keeps two connections from both taking the
-- last request: once the share is handed out, the connection just waits.
function delay()
    if reserved >= n then return 600000 end
    reserved = reserved + 1
    return pace
end

-- wrk calls request() once per thread before the run to check it (and sends
-- nothing): that call comes before any delay(), and must not use up a request.
function request()
    if reserved == 0 then return pool[1] end
    if sent == 0 then t0 = now() end
    sent = sent + 1
    return pool[sent] or pool[n]
end

function response(status, headers, body)
    got = got + 1
    t1 = now()
    if status == 200 then
        if string.find(body, "busy with other jobs", 1, true) then
            busy = busy + 1
        elseif string.find(body, "is deploying", 1, true) then
            accepted = accepted + 1
        elseif string.find(body, "already being", 1, true) then
            locked = locked + 1
        else
            other200 = other200 + 1
        end
    else
        non200 = non200 + 1
        if #codes < 200 then codes = codes .. status .. " " end
    end
    if got >= n then wrk.thread:stop() end
end

function done(summary, latency, requests)
    local first, last = nil, nil
    local c = {sent = 0, got = 0, accepted = 0, busy = 0, locked = 0, other200 = 0, non200 = 0}
    local codes_all = ""
    for _, t in ipairs(threads) do
        local a, b = t:get("t0"), t:get("t1")
        if a and a > 0 and (first == nil or a < first) then first = a end
        if b and b > 0 and (last == nil or b > last) then last = b end
        for key, _ in pairs(c) do c[key] = c[key] + (t:get(key) or 0) end
        codes_all = codes_all .. (t:get("codes") or "")
    end
    local e = summary.errors
    io.write(string.format(
        'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
        '"max_us":%d,"mean_us":%.1f,"err_connect":%d,"err_read":%d,"err_write":%d,' ..
        '"err_status":%d,"err_timeout":%d,"active_s":%.6f,"sent":%d,"got":%d,"accepted":%d,' ..
        '"busy":%d,"locked":%d,"other200":%d,"non200":%d,"codes":"%s"}\n',
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status,
        e.timeout, (first and last) and (last - first) or 0, c.sent, c.got, c.accepted, c.busy,
        c.locked, c.other200, c.non200, codes_all))
end
