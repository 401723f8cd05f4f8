# A Kamailio registrar from Debian's package, for the compose demo: digest authentication
# (any user, password "secret"), stateless nonces from a shared secret, Path support.
FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends kamailio \
    && rm -rf /var/lib/apt/lists/*
ARG LISTEN=0.0.0.0
ARG SECRET=compose-shared-secret
COPY tests/integration/registrar.cfg.tmpl /etc/kamailio/registrar.cfg.tmpl
RUN sed -e "s/127.0.0.1:@PORT@/${LISTEN}:5060/g" -e "s/@PORT@/5060/g" -e "s/@SECRET@/${SECRET}/g" \
      -e "s/@MIN_EXPIRES@/60/g" /etc/kamailio/registrar.cfg.tmpl > /etc/kamailio/registrar.cfg
EXPOSE 5060/udp 5060/tcp
ENTRYPOINT ["kamailio", "-DD", "-E", "-M", "32", "-f", "/etc/kamailio/registrar.cfg"]
