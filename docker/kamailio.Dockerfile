# A Kamailio registrar from Debian's package, for the compose demo and its test: digest
# authentication (any user, password "secret"), stateless nonces from a shared secret (two
# registrars with the same SECRET accept each other's nonces: a failover pair), Path support.
# Where it listens is set when it starts: LISTEN_HOST (default: the container's own address, from
# `hostname -i`) and LISTEN_PORT.
FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends kamailio \
    && rm -rf /var/lib/apt/lists/*
COPY tests/integration/registrar.cfg.tmpl /etc/kamailio/registrar.cfg.tmpl
ENV LISTEN_PORT=5060 SECRET=compose-shared-secret MIN_EXPIRES=60
EXPOSE 5060/udp 5060/tcp
ENTRYPOINT ["/bin/sh", "-c", "LISTEN_HOST=${LISTEN_HOST:-$(hostname -i | cut -d' ' -f1)} && sed -e \"s/127.0.0.1:@PORT@/$LISTEN_HOST:$LISTEN_PORT/g\" -e \"s/@PORT@/$LISTEN_PORT/g\" -e \"s/@SECRET@/$SECRET/g\" -e \"s/@MIN_EXPIRES@/$MIN_EXPIRES/g\" -e \"s/@REGISTER_HOOK@//g\" /etc/kamailio/registrar.cfg.tmpl > /tmp/registrar.cfg && exec kamailio -DD -E -M 32 -Y /tmp -P /tmp/kamailio.pid -f /tmp/registrar.cfg \"$@\"", "registrar"]
