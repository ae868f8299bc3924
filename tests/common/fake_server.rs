//! One local fake HTTP server (wiremock) driven from synchronous tests: its own current-thread runtime, mocks
//! mounted and requests read back by blocking on it. Used by tests/github_api.rs (the GitHub REST API's documented
//! payloads) and tests/remote.rs (object-store errors): `#[path = "common/fake_server.rs"] mod fake_server;`.
#![allow(dead_code)]

use wiremock::{Mock, MockServer, Request};

pub struct Fake {
    pub rt: tokio::runtime::Runtime,
    pub server: MockServer,
}

impl Fake {
    pub fn new() -> Fake {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(MockServer::start());
        Fake { rt, server }
    }

    pub fn mount(&self, mock: Mock) {
        self.rt.block_on(mock.mount(&self.server));
    }

    /// Every request the server received, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.rt
            .block_on(self.server.received_requests())
            .unwrap_or_default()
    }

    /// The requests with this method and path.
    pub fn requests_to(&self, m: &str, p: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method.as_str() == m && r.url.path() == p)
            .collect()
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Checks every mounted mock's expected call count.
    pub fn verify(&self) {
        self.rt.block_on(self.server.verify());
    }
}
