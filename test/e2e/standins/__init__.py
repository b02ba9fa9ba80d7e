"""Stand-ins for the deploy-api end-to-end tests (Python 3 standard library only).

Modules: ca (throwaway CA via the openssl CLI), kube (FakeKube), slack
(FakeSlack), proxy (ConnectProxy), slacksign (Slack request signing), serve
(all of them as one process). Everything listens on 127.0.0.1 only.
"""
