# bench/server/tls_common.sh: what run_tls.sh and pair_tls.sh share, sourced
# by both: the protocol suite, the certificate, the client-side OpenSSL
# configuration and nginx's configuration.  Functions only; nothing runs.

# tls_suite VERSION: sets cipher, group and nginx_curve for TLS 1.2 or 1.3;
# returns 1 for any other version.
tls_suite() {
    case $1 in
    1.2) cipher=ECDHE-ECDSA-AES128-GCM-SHA256 group=P-256 nginx_curve=prime256v1 ;;
    1.3) cipher=TLS_AES_128_GCM_SHA256 group=X25519 nginx_curve=X25519 ;;
    *) return 1 ;;
    esac
}

# make_tls_cert DIR: an EC P-256 CA (ca.crt) and a certificate for
# localhost / 127.0.0.1 signed by it (server.crt, server.key, and both in
# server.pem, as tls_app reads them), made by the openssl command in DIR.
# Its output goes to DIR/cert.log; returns openssl's failure.
make_tls_cert() {
    (
        cd "$1" || exit 1
        openssl ecparam -name prime256v1 -genkey -noout -out ca.key &&
            openssl req -x509 -new -key ca.key -subj /CN=bench-ca -days 2 -out ca.crt \
                -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign &&
            openssl ecparam -name prime256v1 -genkey -noout -out server.key &&
            openssl req -new -key server.key -subj /CN=localhost \
                -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -out server.csr &&
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
                -copy_extensions copy -out server.crt &&
            cat server.crt server.key >server.pem
    ) >"$1/cert.log" 2>&1
}

# write_client_openssl_cnf FILE VERSION: an OPENSSL_CONF for clients that
# read it (wrk's libssl): only that protocol, tls_suite's cipher and group.
write_client_openssl_cnf() {
    {
        echo 'openssl_conf = bench_conf'
        echo '[bench_conf]'
        echo 'ssl_conf = bench_ssl'
        echo '[bench_ssl]'
        echo 'system_default = bench_tls'
        echo '[bench_tls]'
        echo "MinProtocol = TLSv$2"
        echo "MaxProtocol = TLSv$2"
        if [[ $2 == 1.2 ]]; then echo "CipherString = $cipher"; else echo "Ciphersuites = $cipher"; fi
        echo "Groups = $group"
    } >"$1"
}

# write_nginx_tls_conf DIR PORT VERSION [CERT_DIR]: DIR/nginx.conf for one
# worker on 127.0.0.1:PORT with CERT_DIR's (default DIR) server.crt and
# server.key (make_tls_cert's), only that
# protocol and tls_suite's cipher and curve, no session cache or tickets,
# GET /static answering "Hello, world!".  Its pid, error log and temporary
# files go in DIR.  Start it with -p DIR -c DIR/nginx.conf -g 'daemon off;'.
write_nginx_tls_conf() {
    local dir=$1 port=$2 version=$3 certs=${4:-$1} user_line="" cipher_line
    if [[ $(id -u) -eq 0 ]]; then user_line="user root root;"; fi
    if [[ $version == 1.2 ]]; then
        cipher_line="ssl_ciphers $cipher;"
    else
        cipher_line="ssl_conf_command Ciphersuites $cipher;"
    fi
    cat >"$dir/nginx.conf" <<EOC
$user_line
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path $dir/nginx-body;
    proxy_temp_path $dir/nginx-proxy;
    fastcgi_temp_path $dir/nginx-fastcgi;
    uwsgi_temp_path $dir/nginx-uwsgi;
    scgi_temp_path $dir/nginx-scgi;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $certs/server.crt;
        ssl_certificate_key $certs/server.key;
        ssl_protocols TLSv$version;
        $cipher_line
        ssl_ecdh_curve $nginx_curve;
        ssl_session_cache off;
        ssl_session_tickets off;
        location = /static { default_type text/plain; return 200 "Hello, world!"; }
    }
}
EOC
}
