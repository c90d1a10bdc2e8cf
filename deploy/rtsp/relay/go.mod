module crowdlens.local/rtsp-relay

go 1.22
