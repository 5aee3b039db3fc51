import XCTest
@testable import SAM2REngine

final class ThreadPoolTests: XCTestCase {
    func testThreadCountValidated() throws {
        XCTAssertThrowsEngineError(.invalidThreadCount(0)) { _ = try ThreadPool(threads: 0) }
        XCTAssertThrowsEngineError(.invalidThreadCount(257)) { _ = try ThreadPool(threads: 257) }
        XCTAssertThrowsEngineError(.invalidThreadCount(-1)) { _ = try ThreadPool(threads: -1) }
        XCTAssertEqual(try ThreadPool(threads: 1).threadCount, 1)
        XCTAssertEqual(try ThreadPool(threads: 3).threadCount, 3)
    }
}
