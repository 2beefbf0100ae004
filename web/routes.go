package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/shipment"
)

// Role groups used by the routes.
var (
	everyone   = shipment.Roles
	scanners   = []shipment.Role{shipment.RoleAdmin, shipment.RoleClerk, shipment.RoleStaff, shipment.RoleHallLead, shipment.RoleCourier}
	registrars = shipment.RegisterRoles
	admins     = []shipment.Role{shipment.RoleAdmin}
	siteStaff  = []shipment.Role{shipment.RoleAdmin, shipment.RoleClerk, shipment.RoleStaff, shipment.RoleHallLead}
	printers   = []shipment.Role{shipment.RoleAdmin, shipment.RoleClerk, shipment.RoleStaff, shipment.RoleHallLead, shipment.RoleAPIClient}
	hallStaff  = []shipment.Role{shipment.RoleAdmin, shipment.RoleStaff, shipment.RoleHallLead}
	// deskRoles register at a desk: a department's clerks, a hall's staff
	// (application materials), the administrators.
	deskRoles = []shipment.Role{shipment.RoleAdmin, shipment.RoleClerk, shipment.RoleStaff, shipment.RoleHallLead}
)

// routes lists every route, grouped: health, the public surface, the JSON API.
func (s *server) routes(app *fiber.App) {
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	app.Get("/api/openapi.json", s.openapi)
	// The staff pages and what their scripts call (pages.go).
	s.pageRoutes(app)

	// Public: no login. Routing is case-insensitive, so /T/ (upper-case QR text) works too.
	app.Get("/t/:waybill", s.trackPage)
	app.Post("/t/:waybill", s.trackPage) // the phone-tail form: the tail stays out of the address
	app.Get("/api/v1/track/:waybill", s.trackAPI)
	// A parcel's private link (sent, never printed): the detail without the tail.
	app.Get("/s/:token", s.linkPage)
	app.Get("/api/v1/s/:token", s.linkAPI)
	// The recipient's choice of express, with a code texted to the phone on file.
	app.Post("/api/v1/s/:token/redirect-code", s.bounded, s.redirectCodeAPI)
	app.Post("/api/v1/s/:token/redirect", s.bounded, s.redirectAPI)
	app.Post("/s/:token/express-code", s.bounded, func(c *fiber.Ctx) error { return s.linkRedirect(c, "code") })
	app.Post("/s/:token/express", s.bounded, func(c *fiber.Ctx) error { return s.linkRedirect(c, "address") })
	app.Post("/api/v1/auth/token", s.bounded, s.issueToken)
	// The couriers' pushes: no login, an unguessable address.
	s.pushRoutes(app)

	api := app.Group("/api/v1", s.bounded, s.auth)
	api.Delete("/auth/token", allow(everyone...), s.revokeToken)
	api.Get("/me", allow(everyone...), s.me)
	api.Put("/me/password", allow(everyone...), s.changeOwnPassword)
	api.Get("/sites", allow(everyone...), s.listSites)
	api.Put("/sites/:code", allow(admins...), s.saveSite)
	// What a courier's events mean, where it publishes no table (EMS).
	api.Get("/couriers/:carrier/mapping", allow(admins...), s.getCourierMapping)
	api.Put("/couriers/:carrier/mapping", allow(admins...), s.putCourierMapping)
	api.Get("/cert-types", allow(everyone...), s.listCertTypes)
	api.Get("/sites/:code/slots", allow(hallStaff...), s.getSlots)
	api.Put("/sites/:code/slots", allow(admins...), s.putSlots)
	api.Get("/sites/:code/slots/:slot/label.pdf", allow(hallStaff...), s.slotLabel)
	api.Get("/users", allow(admins...), s.listUsers)
	api.Post("/users", allow(admins...), s.createUser)
	api.Patch("/users/:username", allow(admins...), s.updateUser)
	api.Post("/users/:username/password-reset", allow(admins...), s.resetPassword)
	api.Post("/parcels", allow(registrars...), s.createParcel)
	api.Get("/parcels", allow(everyone...), s.listParcels)
	api.Get("/parcels/:waybill", allow(everyone...), s.getParcel)
	api.Get("/parcels/:waybill/events", allow(everyone...), s.parcelEvents)
	api.Get("/parcels/:waybill/label.pdf", allow(printers...), s.viewLabel)
	api.Post("/labels", allow(printers...), s.printLabels)
	api.Post("/scans", allow(scanners...), s.scan)
	api.Get("/messages", allow(admins...), s.listMessages)
	api.Get("/audit", allow(admins...), s.listAudit)
	if s.Integrity != nil {
		// The event log's daily digests (to keep elsewhere) and its checks.
		api.Get("/digests", allow(admins...), s.listDigests)
		api.Post("/verify", allow(admins...), s.startVerify)
		api.Get("/verify/:id", allow(admins...), s.getVerify)
	}

	// Routes, runs, the calendar and the scheduled jobs.
	if s.Runs == nil {
		return
	}
	api.Get("/routes", allow(everyone...), s.listLegs)
	api.Get("/routes/path", allow(everyone...), s.routePath)
	api.Post("/routes", allow(admins...), s.createLeg)
	api.Put("/routes/:id", allow(admins...), s.updateLeg)
	api.Post("/routes/:id/run", allow(admins...), s.runLegNow)
	api.Get("/calendar", allow(everyone...), s.getCalendar)
	api.Put("/calendar/:day", allow(admins...), s.setCalendarDay)
	api.Delete("/calendar/:day", allow(admins...), s.deleteCalendarDay)
	api.Get("/runs", allow(scanners...), s.listRuns)
	api.Get("/runs/:no", allow(scanners...), s.getRun)
	api.Post("/runs/:no/close", allow(siteStaff...), s.closeRun)
	api.Post("/runs/:no/cancel", allow(siteStaff...), s.cancelRun)
	api.Post("/runs/:no/booking", allow(siteStaff...), s.bookByHand)
	if s.Couriers != nil {
		api.Get("/courier/bookings", allow(shipment.RoleCourier), s.courierBookings)
		api.Post("/runs/:no/take", allow(shipment.RoleCourier), s.takeBooking)
		api.Post("/runs/:no/assign", allow(admins...), s.assignBooking)
		api.Post("/runs/:no/handover", allow(shipment.RoleAdmin, shipment.RoleCourier), s.handOver)
	}
	api.Get("/runs/:no/manifest.pdf", allow(scanners...), s.runManifest)
	api.Get("/runs/:no/bag-label.pdf", allow(scanners...), s.runBagLabel)
	api.Get("/jobs", allow(admins...), s.listJobs)
	api.Put("/jobs/:name", allow(admins...), s.saveJob)
	api.Get("/jobs/:name/runs", allow(admins...), s.jobRuns)
	api.Post("/jobs/:name/run", allow(admins...), s.runJobNow)
}
