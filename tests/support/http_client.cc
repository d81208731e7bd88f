#include "support/http_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <stdexcept>

namespace ehr::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string UrlEncode(std::string_view s, std::string_view keep) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string HttpResult::Header(const std::string& name) const {
  for (const auto& h : headers) {
    if (beast::iequals(h.first, name)) return h.second;
  }
  return "";
}

struct HttpClient::Impl {
  std::string host;
  uint16_t port;
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool connected = false;
  bool head = false;

  void Connect() {
    tcp::resolver resolver(ioc);
    stream.connect(resolver.resolve(host, std::to_string(port)));
    stream.socket().set_option(tcp::no_delay(true));
    connected = true;
    buffer.clear();
  }

  HttpResult Read() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 31);
    parser.skip(head);
    http::read(stream, buffer, parser);
    auto& res = parser.get();
    HttpResult out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(res.body());
    if (!res.keep_alive()) Close();
    return out;
  }

  void Close() {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.socket().close(ec);
    connected = false;
  }
};

HttpClient::HttpClient(std::string host, uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
}

HttpClient::~HttpClient() { impl_->Close(); }

void HttpClient::Close() { impl_->Close(); }

HttpResult HttpClient::Send(const std::string& method, const std::string& target, const std::string& body,
                            const std::vector<std::pair<std::string, std::string>>& headers) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!impl_->connected) impl_->Connect();
    impl_->head = method == "HEAD";
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, impl_->host + ":" + std::to_string(impl_->port));
    req.keep_alive(true);
    for (const auto& h : headers) req.set(h.first, h.second);
    if (req.method() == http::verb::unknown) req.method_string(method);
    req.body() = body;
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") req.prepare_payload();
    beast::error_code ec;
    http::write(impl_->stream, req, ec);
    if (ec) {
      impl_->Close();
      continue;
    }
    try {
      return impl_->Read();
    } catch (const beast::system_error& e) {
      impl_->Close();
      if (attempt == 1) throw std::runtime_error(std::string("HTTP read failed: ") + e.what());
    }
  }
  throw std::runtime_error("HTTP request failed");
}

HttpResult HttpClient::SendRaw(const std::string& bytes) {
  if (!impl_->connected) impl_->Connect();
  impl_->head = false;
  asio::write(impl_->stream.socket(), asio::buffer(bytes));
  return impl_->Read();
}

}  // namespace ehr::testing
