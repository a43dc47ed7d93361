# idekube: JupyterLab server settings. nginx is the only public listener; it
# forwards /jupyter/... unchanged to this server on the loopback interface.
# Authentication is left to whatever fronts the container (an ingress, a VPN).
c = get_config()  # noqa: F821  (provided by the Jupyter config loader)

c.ServerApp.ip = "127.0.0.1"
c.ServerApp.port = 8888
c.ServerApp.port_retries = 0
c.ServerApp.base_url = "/jupyter/"
c.ServerApp.open_browser = False
c.ServerApp.allow_root = True

# No token or password: access control happens in front of nginx.
c.IdentityProvider.token = ""
c.PasswordIdentityProvider.hashed_password = ""
c.PasswordIdentityProvider.password_required = False

# Requests arrive through the proxy with the public Host header and origin.
c.ServerApp.allow_remote_access = True
c.ServerApp.trust_xheaders = True
c.ServerApp.allow_origin = "*"
c.ServerApp.disable_check_xsrf = True

# Allow embedding the UI in a frame (e.g. a portal that shows the IDE).
c.ServerApp.tornado_settings = {
    "headers": {"Content-Security-Policy": "frame-ancestors 'self' *"},
}
