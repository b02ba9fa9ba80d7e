-- wrk script: send one fixed raw HTTP request over and over.
--
--   wrk -t T -c C -d D --latency -s fixed.lua URL -- REQUESTFILE
--
-- REQUESTFILE holds the exact bytes of one request (bench.py writes it: a
-- GET /healthz, or a POST /deploy whose signature is wrong). The same script
-- drives deploy-api and nginx, so both pay the same client cost. No
-- response() function: wrk then skips parsing bodies, and counts statuses
-- > 399 in errors.status (every one, for the bad-signature run). done()
-- prints one line "BENCH_JSON {...}" that bench.py parses.

function init(args)
    local f = assert(io.open(args[1], "rb"))
    req = f:read("*a")
    f:close()
end

function request()
    return req
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
        '"max_us":%d,"mean_us":%.1f,"err_connect":%d,"err_read":%d,"err_write":%d,' ..
        '"err_status":%d,"err_timeout":%d}\n',
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status,
        e.timeout))
end
